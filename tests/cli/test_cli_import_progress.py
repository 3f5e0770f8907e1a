"""``craton import``'s progress on a terminal: a bar while sending, a line while the server works."""

from __future__ import annotations

import io
import time

from cratonclient.shell.v1.fleet_shell import UploadProgress

MIB = 1024 * 1024


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_then_a_waiting_line_then_a_clean_line() -> None:
    stderr = Terminal()
    progress = UploadProgress(stderr, "fleet.yaml")
    progress(0, 4 * MIB)
    time.sleep(0.15)
    progress(2 * MIB, 4 * MIB)
    assert "Uploading fleet.yaml [###############...............]  50% 2.0 MiB of 4.0 MiB" in stderr.getvalue()
    progress(4 * MIB, 4 * MIB)
    time.sleep(0.9)
    assert "Sent 4.0 MiB; the server is importing" in stderr.getvalue()
    progress.close()
    assert stderr.getvalue().endswith("\r\033[K")
    written = len(stderr.getvalue())
    time.sleep(0.3)
    assert len(stderr.getvalue()) == written  # the waiting line stopped with close()


def test_small_files_show_nothing_until_the_server_is_slow() -> None:
    stderr = Terminal()
    progress = UploadProgress(stderr, "hosts.csv")
    progress(0, 1000)
    progress(1000, 1000)
    progress.close()
    assert stderr.getvalue() == ""
