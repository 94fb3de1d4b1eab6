"""Processes a sandbox pool left behind, seen from the host."""

from __future__ import annotations

from pathlib import Path

from oorl.sandbox import Sandbox


def sandbox_processes(sandbox: Sandbox) -> list[int]:
    """Host pids of live processes running as one of the pool's uids (it holds them machine-wide),
    other than its own long-lived ones (each slot's bwrap and run server).

    Zombies count as gone: they have exited, and only wait for a parent to reap them.
    """
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            uid = entry.stat().st_uid
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            continue
        if uid in sandbox.uids and state != "Z" and int(entry.name) not in sandbox.resident_pids:
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
