"""The SQLite lease file (storage/leases.py): one holder across engines and threads, none without a file."""

from __future__ import annotations

import threading
from pathlib import Path

from craton.storage import leases
from craton.storage.engine import create_engine


def test_one_holder_at_a_time_across_engines_and_threads(tmp_path: Path) -> None:
    database = tmp_path / "craton.db"
    first, second = create_engine(f"sqlite:///{database}"), create_engine(f"sqlite:///{database}")
    try:
        mine, theirs = leases.file_lease(first, "pump"), leases.file_lease(second, "pump")
        assert mine is not None and theirs is not None and mine is leases.file_lease(first, "pump")
        assert mine.path == f"{database}-lease-pump"
        with mine.hold() as held:
            assert held is True
            with theirs.hold() as other:  # another engine: another open file, as in another process
                assert other is False
            answers: list[bool | None] = []

            def in_a_thread() -> None:
                with mine.hold() as again:  # the same engine in another thread of this process
                    answers.append(again)

            thread = threading.Thread(target=in_a_thread)
            thread.start()
            thread.join()
            assert answers == [False]
        with theirs.hold() as other:
            assert other is True, "released when its holder is done"
        with leases.file_lease(first, "other-job").hold() as held:  # type: ignore[union-attr]
            assert held is True, "each name is a lease of its own"
    finally:
        first.dispose()
        second.dispose()


def test_no_lease_file_means_no_lease(tmp_path: Path) -> None:
    assert leases.file_lease(create_engine("sqlite://"), "pump") is None  # in memory: one process
    lease = leases.FileLease(str(tmp_path / "missing-directory" / "craton.db"), "pump")
    with lease.hold() as held:
        assert held is None, "the file cannot be made: the caller runs without a lease"
