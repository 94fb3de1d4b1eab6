"""What one sandboxed run is asked (its limits, the environment every run starts from) and what it
gives back."""

from __future__ import annotations

from dataclasses import dataclass

BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
}


class SandboxUnavailable(RuntimeError):
    """The machine lacks what isolation needs (bwrap, user namespaces)."""


@dataclass(frozen=True)
class RunLimits:
    """Limits of one process run (the judge derives them from `Limits` for compile or test)."""

    wall_s: float
    cpu_s: float
    memory_mb: int
    processes: int
    file_size_mb: int
    disk_mb: int
    open_files: int
    output_bytes: int
    as_headroom_mb: int | None  # RLIMIT_AS = memory + headroom when there is no memory cgroup


@dataclass
class ExecResult:
    exit_code: int | None  # None when killed by a signal
    signal: int | None
    stdout: bytes
    stderr: bytes
    wall_s: float
    timed_out: bool = False
    output_exceeded: bool = False
    oom_killed: bool = False
    cpu_s: float | None = None  # CPU time of all the run's processes together (None: unknown)
    cpu_exceeded: bool = False  # the run's CPU budget (all its processes together) ran out
    setup_failed: bool = False  # the sandbox never started the program: our fault
    setup_error: str = ""
