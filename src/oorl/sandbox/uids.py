"""Slot uids: one unprivileged uid per live slot on the machine, held by a lock the kernel drops when
its holder dies."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from oorl.sandbox.runs import SandboxUnavailable

SLOT_UID_BASE, SLOT_UID_COUNT = 61000, 4000  # uids 61000..64999 are used only by sandbox slots


def claim_uid() -> tuple[int, int]:
    """A slot uid no other live sandbox on this machine holds: (uid, fd of the lock that holds it).

    The lock is an flock on /run/oorl-sandbox/<uid>.lock, released by the kernel when the process dies.
    """
    lock_dir = Path("/run/oorl-sandbox")
    lock_dir.mkdir(mode=0o700, exist_ok=True)
    for uid in range(SLOT_UID_BASE, SLOT_UID_BASE + SLOT_UID_COUNT):
        fd = os.open(lock_dir / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return uid, fd
        except BlockingIOError:
            os.close(fd)
    raise SandboxUnavailable(f"all {SLOT_UID_COUNT} sandbox slot uids are in use")
