"""SQLite writers queue for the write lock (storage/writequeue.py) instead of relying on busy back-off."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from craton.storage.engine import create_engine, transaction
from craton.storage.writequeue import _Turns

WRITERS_PER_PROCESS = 4
WRITES_PER_WRITER = 25


def _no_busy_wait(dbapi_connection, _record) -> None:
    # Without the queue, a second writer would now fail at once with "database is locked".
    dbapi_connection.execute("PRAGMA busy_timeout=0")


def _writer_process(url: str, results) -> None:
    engine = create_engine(url)
    sa.event.listen(engine, "connect", _no_busy_wait)
    waits: list[float] = []
    errors: list[str] = []

    def writer() -> None:
        for _ in range(WRITES_PER_WRITER):
            asked = time.monotonic()
            try:
                with transaction(engine, writes=True) as conn:
                    waits.append(time.monotonic() - asked)
                    value = conn.execute(sa.text("SELECT value FROM counter")).scalar_one()
                    time.sleep(0.001)  # hold the lock a while: a read-modify-write that others must wait for
                    conn.execute(sa.text("UPDATE counter SET value = :v"), {"v": value + 1})
            except sa.exc.OperationalError as error:
                errors.append(str(error.orig))

    threads = [threading.Thread(target=writer) for _ in range(WRITERS_PER_PROCESS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    results.put((errors, max(waits, default=0.0)))


def test_concurrent_writers_in_two_processes_all_commit_without_busy_waiting(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'queue.db'}"
    engine = create_engine(url)
    with transaction(engine, writes=True) as conn:
        conn.execute(sa.text("CREATE TABLE counter (value INTEGER NOT NULL)"))
        conn.execute(sa.text("INSERT INTO counter VALUES (0)"))
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    processes = [context.Process(target=_writer_process, args=(url, results)) for _ in range(2)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    errors = [error for process_errors, _ in outcomes for error in process_errors]
    assert errors == []  # busy_timeout is 0: any writer that met a held lock would have failed
    with transaction(engine, writes=False) as conn:
        total = conn.execute(sa.text("SELECT value FROM counter")).scalar_one()
    engine.dispose()
    assert total == 2 * WRITERS_PER_PROCESS * WRITES_PER_WRITER  # no lost update
    # 200 writes of about 1 ms each: no writer waits behind more than a few rounds of the others
    assert max(longest for _, longest in outcomes) < 5.0


def test_threads_get_their_turn_in_the_order_they_asked():
    turns = _Turns()
    turns.acquire()
    order: list[int] = []

    def waiter(number: int) -> None:
        turns.acquire()
        order.append(number)
        turns.release()

    threads = []
    for number in range(6):
        thread = threading.Thread(target=waiter, args=(number,))
        thread.start()
        threads.append(thread)
        deadline = time.monotonic() + 5
        while len(turns._waiting) < number + 1 and time.monotonic() < deadline:  # queued before the next one starts
            time.sleep(0.001)
    turns.release()
    for thread in threads:
        thread.join(timeout=5)
    assert order == list(range(6))


def test_a_failed_write_gives_the_turn_back(tmp_path: Path):
    engine = create_engine(f"sqlite:///{tmp_path / 'fail.db'}")
    try:
        try:
            with transaction(engine, writes=True) as conn:
                conn.execute(sa.text("SELECT no_such_column"))
        except sa.exc.OperationalError:
            pass
        done = threading.Event()

        def write() -> None:
            with transaction(engine, writes=True) as conn:
                conn.execute(sa.text("CREATE TABLE after_failure (id INTEGER)"))
            done.set()

        threading.Thread(target=write, daemon=True).start()
        assert done.wait(5), "the writer after a failed one never got its turn"
    finally:
        engine.dispose()
