"""Test hooks and durability helpers of the registry writers.

``UNDERWRITING_TEST_PAUSE_AT=<point>`` makes a writer touch ``UNDERWRITING_TEST_PAUSE_FILE`` and
sleep at that point so a test can kill it mid-write. Points (see :data:`PAUSE_POINTS`): ``stage``
(files written, manifest not yet), ``publish`` (manifest signed, folder not yet renamed into place),
``history`` (half of a history line written), ``promote`` (history entry written, DEFAULT not yet
replaced), ``key`` (half of a private key written).
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_PAUSE_AT = "UNDERWRITING_TEST_PAUSE_AT"
ENV_PAUSE_FILE = "UNDERWRITING_TEST_PAUSE_FILE"
ENV_PAUSE_SECONDS = "UNDERWRITING_TEST_PAUSE_SECONDS"
PAUSE_POINTS = ("stage", "publish", "history", "promote", "key")


def pause(point: str) -> None:
    """Sleep at ``point`` when the test hook asks for it (no effect otherwise)."""
    if os.environ.get(ENV_PAUSE_AT) == point:
        import time

        flag = os.environ.get(ENV_PAUSE_FILE)
        if flag:
            Path(flag).write_text(point, encoding="utf-8")
        time.sleep(float(os.environ.get(ENV_PAUSE_SECONDS, "60")))


def fsync_dir(path: Path) -> None:
    """fsync a folder so a rename inside it is durable (best effort)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def alive(pid: int) -> bool:
    """Whether process ``pid`` still exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
