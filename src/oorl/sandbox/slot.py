"""A worker slot: one worker's private identity, reused run after run."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from oorl.sandbox.cgroups import capabilities, write_first
from oorl.sandbox.clients import Launcher
from oorl.sandbox.house import House
from oorl.sandbox.runs import RunLimits, SandboxUnavailable
from oorl.sandbox.uids import claim_uid


class Slot:
    """One worker's private identity, reused run after run: its uid, its cgroups, its house.

    Every box a run binds lies under `cache_root`.
    """

    def __init__(self, cache_root: str | os.PathLike):
        caps = capabilities()
        if caps.bwrap is None:
            raise SandboxUnavailable("bubblewrap is not installed: apt-get install bubblewrap")
        self.cache_root = Path(cache_root).absolute()
        self._cache_prefix = os.path.join(self.cache_root, "")
        self._lock_fd = None
        if caps.root:
            self.uid, self._lock_fd = claim_uid()
        else:
            self.uid = os.getuid()
        name = f"slot{self.uid}-{os.getpid()}"
        self.memory_cg = caps.memory_cgroup / name if caps.memory_cgroup else None
        self.pids_cg = caps.pids_cgroup / name if caps.pids_cgroup else None
        self.cpu_cg = caps.cpu_cgroup / name if caps.cpu_cgroup else None
        for cg in (self.memory_cg, self.pids_cg, self.cpu_cg):
            if cg is not None:
                cg.mkdir(exist_ok=True)
        self._launcher: Launcher | None = None
        self._house: House | None = None
        self._configured: tuple[int, int] | None = None
        self._oom_fd = self._open_oom_events()
        self._oom_count = self._oom_kills()
        self._cpu_fd = self._open_cpu_usage()

    def relative(self, path: str | os.PathLike) -> str:
        """`path`, which must lie under the cache root, relative to it (as the run server takes it)."""
        path = os.fspath(path)
        if not path.startswith(self._cache_prefix) or "/../" in path or path.endswith("/.."):
            raise ValueError(f"{path} is not under the sandbox cache {self.cache_root}")
        return path[len(self._cache_prefix) :]

    def house(self) -> House:
        """This slot's house, started (or restarted, if it died) on demand."""
        if self._house is None or not self._house.alive():
            self.drop_house()
            if self._launcher is None or not self._launcher.alive():
                if self._launcher is not None:
                    self._launcher.close()
                self._launcher = Launcher(
                    [cg / "cgroup.procs" for cg in (self.memory_cg, self.pids_cg, self.cpu_cg) if cg]
                )
            self._house = House(self._launcher, self)
        return self._house

    def drop_house(self) -> None:
        """Forget a house that died or stopped answering (killing it, and anything of it still alive):
        the next run starts a new one."""
        if self._house is not None:
            self._house.close()
            self._house = None
            self._configured = None
            self.sweep()

    @property
    def resident_pids(self) -> frozenset[int]:
        """Host pids of the slot's own processes (launcher, bwrap, run server, and between runs the
        next run's init and runner, prepared and waiting): never a run's."""
        if self._house is None:
            return frozenset({self._launcher.pid} if self._launcher is not None else ())
        return self._house.resident | self._house.spare()

    def configure(self, limits: RunLimits) -> None:
        if self._configured == (limits.memory_mb, limits.processes):
            return  # nothing else writes these files: unchanged since the last run
        self._configured = None
        house = self.house()
        if self.memory_cg is not None:
            nbytes = str(limits.memory_mb * 2**20 + house.memory_bytes)
            with contextlib.suppress(OSError):  # memsw exists only with swap accounting
                (self.memory_cg / "memory.memsw.limit_in_bytes").write_text("-1")
            write_first(self.memory_cg, ("memory.limit_in_bytes", "memory.max"), nbytes)
            with contextlib.suppress(OSError):
                (self.memory_cg / "memory.memsw.limit_in_bytes").write_text(nbytes)
            with contextlib.suppress(OSError):
                (self.memory_cg / "memory.max_usage_in_bytes").write_text("0")
        if self.pids_cg is not None:
            # besides the house and the run's `processes` (RLIMIT_NPROC): its namespace's init, and the
            # last run's until its namespaces are torn down
            (self.pids_cg / "pids.max").write_text(str(limits.processes + len(house.resident) + 2))
        self._configured = (limits.memory_mb, limits.processes)

    def oom_killed(self) -> bool:
        """Whether the memory cgroup's OOM killer struck since the last call (once per run, after it)."""
        count = self._oom_kills()
        struck, self._oom_count = count > self._oom_count, count
        return struck

    def _open_oom_events(self) -> int | None:
        for name in ("memory.oom_control", "memory.events") if self.memory_cg is not None else ():
            with contextlib.suppress(OSError):
                return os.open(self.memory_cg / name, os.O_RDONLY | os.O_CLOEXEC)
        return None

    def _oom_kills(self) -> int:
        """The memory cgroup's OOM kill count (its file kept open: one read a run)."""
        if self._oom_fd is None:
            return 0
        for line in os.pread(self._oom_fd, 4096, 0).decode().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def _open_cpu_usage(self) -> int | None:
        for name in ("cpuacct.usage", "cpu.stat") if self.cpu_cg is not None else ():
            with contextlib.suppress(OSError):
                return os.open(self.cpu_cg / name, os.O_RDONLY | os.O_CLOEXEC)
        return None

    def cpu_seconds(self) -> float | None:
        """CPU time used so far by the slot's processes (its house, idle between runs, and the run in
        progress), or None without a CPU accounting cgroup. Its growth during a run is the run's."""
        if self._cpu_fd is None:
            return None
        text = os.pread(self._cpu_fd, 4096, 0).decode()
        if text[:1].isdigit():  # cpuacct.usage: nanoseconds
            return int(text) / 1e9
        for line in text.splitlines():  # cpu.stat (v2)
            key, _, value = line.partition(" ")
            if key == "usage_usec":
                return int(value) / 1e6
        return None

    def sweep(self, timeout: float = 5.0) -> None:
        """Once the house is gone: kill anything but the launcher still alive in this slot's cgroups
        (normally nothing: every run's PID namespace died with the house), repeating until they are
        empty, since a dying fork bomb can still be forking."""
        deadline, resident = time.monotonic() + timeout, self.resident_pids
        for cg in (self.pids_cg or self.memory_cg,):  # every process of the slot is born in both
            if cg is None:
                continue
            while True:
                pids = [int(p) for p in (cg / "cgroup.procs").read_text().split()]
                if not (pids := [p for p in pids if p not in resident]):
                    break
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                if time.monotonic() > deadline:
                    raise SandboxUnavailable(f"processes {pids[:10]} in {cg} survive SIGKILL")
                time.sleep(0.002)

    def close(self) -> None:
        self.drop_house()
        if self._launcher is not None:
            self._launcher.close()
            self._launcher = None
        self.sweep()
        for fd in (self._lock_fd, self._oom_fd, self._cpu_fd):
            if fd is not None:
                os.close(fd)
        self._lock_fd = self._oom_fd = self._cpu_fd = None
        for cg in (self.memory_cg, self.pids_cg, self.cpu_cg):
            if cg is not None:
                with contextlib.suppress(OSError):
                    cg.rmdir()
