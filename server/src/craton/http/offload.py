"""Blocking database work off the event loop, on one bounded thread pool per app.

A plain executor hand-off costs about half of AnyIO's ``to_thread`` machinery
(capacity limiter, run vars, cancel scopes) on the read path. Context variables
(the request id of log lines) are carried into the thread.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class Offload:
    """Runs blocking calls on at most ``max_threads`` threads.

    Few threads serve more requests per second than many: the work holds the GIL
    most of the time, and every extra runnable thread adds lock hand-offs
    (docs/performance.md has the figures).
    """

    def __init__(self, max_threads: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="craton-db")

    async def __call__(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        context = contextvars.copy_context()
        call = functools.partial(context.run, function, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    def submit(self, function: Callable[P, object], *args: P.args, **kwargs: P.kwargs) -> None:
        """Run ``function`` on the pool without waiting for it (clean-up after a client left)."""
        context = contextvars.copy_context()
        self._executor.submit(functools.partial(context.run, function, *args, **kwargs))

    def shutdown(self) -> None:
        """Wait for running calls to finish; called before the engine is disposed."""
        self._executor.shutdown(wait=True)
