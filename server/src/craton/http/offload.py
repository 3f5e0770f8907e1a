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
    """Runs blocking calls on at most ``max_threads`` threads, started as they are needed.

    Few threads serve more requests per second than many: the work holds the GIL
    most of the time, and every extra runnable thread adds lock hand-offs
    (docs/performance.md has the figures).
    """

    def __init__(self, max_threads: int, name: str = "craton-db") -> None:
        self._max_threads = max_threads
        self._name = name
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = threading.Semaphore(0)  # released by a thread each time it waits for work
        self._lock = threading.Lock()
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
            threads = list(self._threads)
        for _ in threads:
            self._queue.put(None)
        for thread in threads:
            thread.join()

    def _put(self, item: _Item) -> None:
        if self._closed:
            raise RuntimeError("the offload pool is shut down")
        self._queue.put(item)
        if len(self._threads) >= self._max_threads:
            return  # all started: one of them takes it
        if self._idle.acquire(blocking=False):
            return  # a waiting thread takes it
        with self._lock:
            if len(self._threads) < self._max_threads and not self._closed:
                thread = threading.Thread(target=self._work, name=f"{self._name}_{len(self._threads)}", daemon=True)
                self._threads.append(thread)
                thread.start()

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            call, loop, future = item
            del item
            try:
                if future is None or not future.cancelled():
                    self._run(call, loop, future)
            finally:
                del call, loop, future  # no reference to a result kept while idle
                self._idle.release()

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
