"""Processes a sandbox pool left behind, seen from the host."""

from __future__ import annotations

import time
from pathlib import Path

from oorl.sandbox import Sandbox


def sandbox_processes(sandbox: Sandbox, settle_s: float = 5.0) -> list[int]:
    """Host pids of live processes running as one of the pool's uids (it holds them machine-wide),
    other than its own (each slot's launcher, bwrap and run server, and the next run's init and
    runner, prepared between runs).

    A run's init answers once the run's processes are gone and then exits itself: until the run
    server has reaped it and prepared the next run, it shows here. So this waits up to `settle_s`
    for the list to empty; what a run left behind stays in it. Zombies count as gone: they have
    exited, and only wait for a parent to reap them.
    """
    deadline = time.monotonic() + settle_s
    while (pids := _foreign_processes(sandbox)) and time.monotonic() < deadline:
        time.sleep(0.01)
    return pids


def _foreign_processes(sandbox: Sandbox) -> list[int]:
    pids = []
    resident = sandbox.resident_pids
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            uid = entry.stat().st_uid
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            continue
        if uid in sandbox.uids and state != "Z" and int(entry.name) not in resident:
            pids.append(int(entry.name))
    return pids


def describe(pids: list[int]) -> str:
    info = []
    for pid in pids:
        try:
            status = dict(
                line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
            )
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:80]
            info.append(f"{pid} {status['State']} ppid={status['PPid']} {cmd!r}")
        except (FileNotFoundError, ProcessLookupError):
            info.append(f"{pid} (gone)")
    return "; ".join(info)
