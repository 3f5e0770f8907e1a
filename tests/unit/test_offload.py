"""The thread pool that runs blocking work: bounded, and carrying the caller's context."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

from craton.http.offload import Offload

REQUEST = contextvars.ContextVar("request", default="none")


def test_the_callers_context_reaches_the_thread():
    offload = Offload(2)

    async def main():
        REQUEST.set("req-1")
        return await offload(lambda: (REQUEST.get(), threading.current_thread().name))

    try:
        value, thread = asyncio.run(main())
    finally:
        offload.shutdown()
    assert value == "req-1"
    assert thread.startswith("craton-db")


def test_no_more_than_max_threads_run_at_once_and_all_calls_complete():
    offload = Offload(3)
    lock = threading.Lock()
    state = {"running": 0, "peak": 0}

    def work(n: int) -> int:
        with lock:
            state["running"] += 1
            state["peak"] = max(state["peak"], state["running"])
        time.sleep(0.02)
        with lock:
            state["running"] -= 1
        return n * n

    async def main():
        return await asyncio.gather(*(offload(work, n) for n in range(12)))

    try:
        results = asyncio.run(main())
    finally:
        offload.shutdown()
    assert results == [n * n for n in range(12)]
    assert state["peak"] == 3


def test_errors_reach_the_caller():
    offload = Offload(1)

    def fail():
        raise ValueError("from the thread")

    async def main():
        await offload(fail)

    try:
        try:
            asyncio.run(main())
        except ValueError as exc:
            assert str(exc) == "from the thread"
        else:
            raise AssertionError("the error was lost")
    finally:
        offload.shutdown()


def test_a_call_cancelled_before_it_started_does_not_run_and_the_pool_goes_on():
    offload = Offload(1)
    release = threading.Event()
    ran: list[str] = []

    async def main():
        blocker = asyncio.ensure_future(offload(release.wait, 5))
        waiting = asyncio.ensure_future(offload(ran.append, "cancelled one"))
        await asyncio.sleep(0.05)
        waiting.cancel()
        release.set()
        assert await blocker is True
        return await offload(lambda: "next")

    try:
        assert asyncio.run(main()) == "next"
    finally:
        offload.shutdown()
    assert ran == []


def test_submitted_calls_run_before_shutdown_returns():
    offload = Offload(2)
    done: list[int] = []
    for n in range(5):
        offload.submit(lambda n=n: (time.sleep(0.01), done.append(n)))
    offload.shutdown()
    assert sorted(done) == [0, 1, 2, 3, 4]


def test_a_call_after_shutdown_is_refused():
    offload = Offload(1)
    offload.submit(lambda: None)
    offload.shutdown()

    async def main():
        await offload(lambda: None)

    try:
        asyncio.run(main())
    except RuntimeError as exc:
        assert "shut down" in str(exc)
    else:
        raise AssertionError("the call was accepted")
