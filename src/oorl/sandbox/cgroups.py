"""What the machine offers for isolation (root, bwrap, a C compiler) and the cgroup controllers that
bound a slot: memory, processes, and CPU time (accounting only: a run's CPU budget is enforced by
reading it)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class Capabilities:
    root: bool
    bwrap: str | None
    cc: str | None  # builds the run server (`init.c`) on first use
    memory_cgroup: Path | None
    pids_cgroup: Path | None
    cpu_cgroup: Path | None  # CPU accounting: cpuacct (v1) or cpu (v2)

    @property
    def memory_enforcement(self) -> str:
        if self.memory_cgroup is not None:
            return f"cgroup v1 memory controller ({self.memory_cgroup})"
        return "no memory cgroup: RLIMIT_AS where safe, else the runtime's heap flag (JVM -Xmx, node --max-old-space-size)"

    @property
    def process_enforcement(self) -> str:
        per_run = "RLIMIT_NPROC in each run's own user namespace"
        if self.pids_cgroup is not None:
            return f"{per_run}; the slot as a whole: cgroup v1 pids controller ({self.pids_cgroup})"
        return f"{per_run} (no pids cgroup)"

    @property
    def cpu_enforcement(self) -> str:
        exact = "the whole run's CPU time (every process, reported by its init) checked once it ends"
        if self.cpu_cgroup is not None:
            return f"{exact}; during the run, the slot's CPU accounting cgroup ({self.cpu_cgroup}), polled"
        return f"{exact}; during the run only RLIMIT_CPU per process and the wall limit (no CPU cgroup)"

    @property
    def seccomp(self) -> str:
        return (
            "seccomp filters in every run (seccomp.h; the list attached once per house): no namespaces or "
            "mounts, io_uring, perf_event_open, bpf, userfaultfd, keyrings, AF_VSOCK / AF_PACKET / netlink "
            "other than route sockets; native ABI only"
        )


def _cgroup_parent(controller: str) -> Path | None:
    """A writable `oorl` directory under a cgroup v1 controller, or under cgroup v2 if it offers it."""
    v1 = CGROUP_ROOT / controller
    candidates = []
    if (v1 / "cgroup.procs").exists():
        candidates.append(v1 / "oorl")
    v2 = CGROUP_ROOT / "unified" if (CGROUP_ROOT / "unified" / "cgroup.controllers").exists() else CGROUP_ROOT
    if (v2 / "cgroup.controllers").exists() and controller in (v2 / "cgroup.controllers").read_text().split():
        candidates.append(v2 / "oorl")
    for path in candidates:
        try:
            path.mkdir(exist_ok=True)
            if path.parent == v2 / "" or path.parent == v2:
                (path.parent / "cgroup.subtree_control").write_text(f"+{controller}")
                (path / "cgroup.subtree_control").write_text(f"+{controller}")
            return path
        except OSError:
            continue
    return None


@cache
def capabilities() -> Capabilities:
    root = os.geteuid() == 0
    return Capabilities(
        root=root,
        bwrap=shutil.which("bwrap"),
        cc=shutil.which("gcc") or shutil.which("cc"),
        memory_cgroup=_cgroup_parent("memory") if root else None,
        pids_cgroup=_cgroup_parent("pids") if root else None,
        cpu_cgroup=(_cgroup_parent("cpuacct") or _cgroup_parent("cpu")) if root else None,
    )


def write_first(directory: Path, names: tuple[str, ...], value: str) -> None:
    for name in names:
        path = directory / name
        if path.exists():
            path.write_text(value)
            return
