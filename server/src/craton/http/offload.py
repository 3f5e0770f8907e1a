"""Blocking database work off the event loop, on one bounded pool of threads per app.

A call is one queue item and one asyncio future that the worker thread resolves with
``call_soon_threadsafe``. ``loop.run_in_executor`` (the previous hand-off, itself about half
the cost of AnyIO's ``to_thread``) also creates a ``concurrent.futures.Future`` with its
condition variable and chains the two futures; that bookkeeping was about 70 Python calls on
the event-loop thread per request (docs/performance.md). Context variables (the request id
of log lines) are carried into the thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")
log = logging.getLogger("craton.api")

#: (the call, the loop and future to resolve, or None for a call nobody waits for)
_Item = tuple[Callable[[], Any], asyncio.AbstractEventLoop | None, "asyncio.Future[Any] | None"]


def _set_result(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():  # the waiting request may have been cancelled meanwhile
        future.set_result(result)


def _set_exception(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


class Offload:
    """Runs blocking calls on ``max_threads`` threads, started at the first call.

    Few threads serve more requests per second than many: the work holds the GIL
    most of the time, and every extra runnable thread adds lock hand-offs
    (docs/performance.md has the figures).
    """

    def __init__(self, max_threads: int, name: str = "craton-db") -> None:
        self._max_threads = max_threads
        self._name = name
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._running = False  # threads started and not shut down
        self._closed = False

    async def __call__(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._put((functools.partial(contextvars.copy_context().run, function, *args, **kwargs), loop, future))
        return await future

    def submit(self, function: Callable[P, object], *args: P.args, **kwargs: P.kwargs) -> None:
        """Run ``function`` on the pool without waiting for it (clean-up after a client left)."""
        self._put((functools.partial(contextvars.copy_context().run, function, *args, **kwargs), None, None))

    def shutdown(self) -> None:
        """Run the calls already queued, then stop the threads; called before the engine is disposed."""
        with self._lock:
            self._closed = True
            self._running = False  # a later call is refused by _start
            threads = list(self._threads)
        for _ in threads:
            self._queue.put(None)
        for thread in threads:
            thread.join()

    def _put(self, item: _Item) -> None:
        if not self._running:
            self._start()
        self._queue.put(item)

    def _start(self) -> None:
        """All threads at the first call: idle ones wait on the queue and cost nothing, and no call
        pays for deciding whether another thread is needed."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the offload pool is shut down")
            if self._running:
                return
            for number in range(self._max_threads):
                thread = threading.Thread(target=self._work, name=f"{self._name}_{number}", daemon=True)
                self._threads.append(thread)
                thread.start()
            self._running = True

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            call, loop, future = item
            del item
            if future is None or not future.cancelled():
                self._run(call, loop, future)
            del call, loop, future  # no reference to a result kept while idle

    @staticmethod
    def _run(
        call: Callable[[], Any], loop: asyncio.AbstractEventLoop | None, future: asyncio.Future[Any] | None
    ) -> None:
        try:
            result = call()
        except BaseException as error:
            if future is None or loop is None:  # nobody waits for it: as quiet as an unread executor future
                log.debug("offloaded call failed", exc_info=True)
                return
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
                loop.call_soon_threadsafe(_set_exception, future, error)
            return
        if future is not None and loop is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_set_result, future, result)
