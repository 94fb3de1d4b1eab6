"""One isolated process run: the mechanism under every compile and every test.

    launcher (root, one per slot, long-lived, in the slot's cgroups: see `launcher.py`)
      ->  fork, drop to the slot's own uid, exec bwrap: the slot's house, started once
          (new user, network, PID, IPC, UTS, cgroup and mount namespaces; only system directories,
          read-only; the compile cache at /.oorl/cache; a scrubbed environment)
        ->  the run server (see `init.c`), which forks every run of the slot into its own PID,
            mount, IPC, UTS and user namespaces, with a fresh /proc, a size-capped /tmp and
            /dev/shm, /box bound from the cache, rlimits, no capabilities, and a seccomp filter.

Where each part lives: `cgroups.py` (what the machine offers; the slot's controllers), `uids.py`
(slot uids), `slot.py` (a worker's uid, cgroups and house), `clients.py` (our end of the launcher and
the run server), `house.py` (bwrap's argv, building `init.c`, the run server's messages, which
`init.c` documents), `execute.py` (one run: its limits, its output, its verdict inputs), `runs.py`
(what a run is asked and gives back).

Why each layer (measured on Debian 12):
- `bwrap --uid` started as root does not drop privileges, so the launcher's child drops first
  (groups, gid, uid; the launcher has already emptied its capability bounding set and inheritable
  capabilities, which the child inherits).
- Each worker slot holds its own unprivileged uid (never a real account; unique machine-wide while
  held), so concurrent runs cannot touch each other's files.
- Runs are born in the slot's cgroups: joining a cgroup v1 hierarchy costs an RCU grace period, so
  the launcher joins once instead of every run. The house's resident processes (launcher, bwrap,
  run server) are counted in the limits (pids.max and the memory limit allow for them) and are never
  the memory cgroup's OOM victim: every run raises its own OOM score to the maximum.
- A run's process count is RLIMIT_NPROC, which the kernel counts in the run's own user namespace:
  exactly the program's processes and threads, nested user namespaces included. The pids cgroup,
  where there is one, bounds the whole slot.
- One bwrap per run cost about 3 ms of set-up per run; the run server prepares each run before its
  request comes, with the same isolation, except that the slot's runs share (one after another) a
  network namespace that holds nothing but loopback.
- The PID namespace dies with its init: when the program exits, every daemonised, setsid or
  double-forked child dies with it, and the init answers only once they are gone. When a house
  dies, the slot's cgroups are swept (all but the launcher).
- Memory is bounded by a cgroup where the machine has one; otherwise by RLIMIT_AS where that is safe
  for the runtime (see `Language.as_headroom_mb`) and the runtime's own heap flag where it is not.
- CPU time is one budget for the whole run: the slot's CPU accounting cgroup, polled during the run,
  and the exact total its init reports (every process of the run is reaped by its parent or by the
  init), since RLIMIT_CPU counts each process alone.
- The seccomp filters (seccomp.h) close what namespaces do not: nested user namespaces, io_uring, bpf,
  perf events, userfaultfd, keyrings, vsock and raw sockets, and foreign syscall ABIs. The list is
  attached once, by the run server, and inherited: attaching it per run cost 0.1-0.2 ms.
- What a request still costs is kept short: the run's user namespace is made before the request
  comes and entered after its mounts, and the cache is hidden by the run's init ahead of time.
"""

from oorl.sandbox.cgroups import Capabilities, capabilities
from oorl.sandbox.execute import execute
from oorl.sandbox.runs import BASE_ENV, ExecResult, RunLimits, SandboxUnavailable
from oorl.sandbox.slot import Slot

__all__ = [
    "BASE_ENV",
    "Capabilities",
    "ExecResult",
    "RunLimits",
    "SandboxUnavailable",
    "Slot",
    "capabilities",
    "execute",
]
