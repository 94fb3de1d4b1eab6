"""A slot's long-lived launcher: the process the slot's house (bwrap and its run server) is started
from, and restarted from if it dies.

Joining a cgroup v1 hierarchy costs an RCU grace period (several ms per hierarchy). The launcher
joins the slot's memory, pids and CPU accounting cgroups once; the house is forked inside them, and so is every run
forked in the house: all are born in the right cgroups and never migrate.

    our process  --(socketpair: a JSON request + fds)-->  launcher
    launcher (root, the slot's cgroups, oom_score_adj -1000 if allowed, no capability bounding set,
              child subreaper)
      -> fork: own process group, the request's fds as 0, 1, 2..., signals reset, oom_score_adj 1000,
         rlimits, slot uid
         -> exec the request's command: bwrap (scrubbed environment, its own session)

Below, "the run" is what the launcher was asked to start: the house. The launcher is its parent: it
reports the pid once forked and the wait status once reaped, and kills the run's process group on
request. It never reaps a run before reporting, so a group it signals is always still the run's. It exits (killing a run in progress) when our end of the socket
closes, i.e. when our process dies (this works whichever of our threads started it, unlike
PR_SET_PDEATHSIG, which fires when that thread exits), and enforces each run's wall-clock backstop
itself, so a run cannot outlive its limit even if we stop watching. bwrap runs with
--die-with-parent, so a launcher that dies takes its run down with it.

This file runs as a script under `python -I -S` (standard library only, nothing imported from
oorl), kept small: its memory is charged to the slot's memory cgroup.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import resource
import select
import signal
import socket
import sys
import time

PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
MAX_MESSAGE = 1 << 20
BACKSTOP_S = 10.0  # beyond the run's own wall limit, which our process enforces first


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _harden(libc: ctypes.CDLL) -> None:
    """Drop what no run may inherit: the capability bounding set and inheritable capabilities
    (`setpriv --bounding-set=-all --inh-caps=-all`). Our effective capabilities stay, for setuid."""
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last = int(f.read())
    for cap in range(last + 1):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), f"cannot drop capability {cap} from the bounding set")
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capget")
    for d in data:
        d.inheritable = 0
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")
    # ambient capabilities need permitted and inheritable ones: clearing inheritable clears them too


def _child(req: dict, fds: list[int]) -> None:
    """In the forked child: become the run's process and exec bwrap. Never returns."""
    try:
        os.setpgid(0, 0)  # its own process group, for killpg; bwrap --new-session makes the session
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in fds]  # out of the way of 0..3 first
        for target, fd in enumerate(high):
            os.dup2(fd, target)
        os.closerange(len(high), 1 << 20)  # the launcher's socket, pidfds, the received copies
        for sig in (signal.SIGPIPE, signal.SIGXFSZ):  # Python ignores these; exec would keep that
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        # The memory cgroup's OOM killer must pick the run, not the launcher. Written while still
        # privileged: with CAP_SYS_RESOURCE this also raises oom_score_adj_min, so the program cannot
        # lower it again.
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
        for name, soft, hard in req["rlimits"]:
            resource.setrlimit(getattr(resource, name), (soft, hard))
        uid = req["uid"]
        if uid is not None:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)  # from root to non-root: permitted and effective caps are cleared
        os.execve(req["argv"][0], req["argv"], req["env"])
    except BaseException as e:  # noqa: BLE001 - report anything, then die
        try:
            os.write(2, f"oorl sandbox launcher: cannot start {req['argv'][0]}: {e}\n".encode())
        finally:
            os._exit(127)


def _send(sock: socket.socket, **message) -> bool:
    """False when our process is gone (or no longer listening)."""
    try:
        sock.send(json.dumps(message).encode())
    except OSError:
        return False
    return True


def _serve_run(sock: socket.socket, req: dict, fds: list[int]) -> bool:
    """Fork one run, report its pid and wait status. False when our process is gone."""
    deadline = time.monotonic() + req["wall_s"] + BACKSTOP_S
    try:
        pid = os.fork()
    except OSError as e:  # the pids cgroup is full of leftovers, or the machine is
        for fd in fds:
            os.close(fd)
        return _send(sock, id=req["id"], error=f"fork: {e}")
    if pid == 0:
        _child(req, fds)
    for fd in fds:
        os.close(fd)
    pidfd = os.pidfd_open(pid)
    watch = [sock, pidfd]
    if not _send(sock, id=req["id"], pid=pid):
        watch.remove(sock)
        _kill(pid)
    try:
        while True:
            ready, _, _ = select.select(watch, [], [], max(0.0, deadline - time.monotonic()))
            if pidfd in ready:
                _, status = os.waitpid(pid, 0)
                return sock in watch and _send(sock, id=req["id"], status=status)
            if sock in ready:
                try:
                    data, extra, _, _ = socket.recv_fds(sock, MAX_MESSAGE, 8)
                except OSError:
                    data, extra = b"", []
                for fd in extra:  # none expected: our process sends a run only once the last is reaped
                    os.close(fd)
                if not data:  # our process died: take the run down with us
                    watch.remove(sock)
                    _kill(pid)
                elif json.loads(data) == {"op": "kill", "id": req["id"]}:
                    _kill(pid)
            elif not ready:  # the backstop: our process stopped watching this run
                _kill(pid)
                deadline = time.monotonic() + 3600
    finally:
        os.close(pidfd)


def _reap_orphans() -> None:
    """Reap finished orphans. Only between runs: a run's own status is reported before it is reaped."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def _kill(pid: int) -> None:
    """SIGKILL the run's process group. The run is not reaped yet, so the group is still its own."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def main() -> None:
    sock = socket.socket(fileno=int(sys.argv[1]))
    root = os.geteuid() == 0
    if root:
        # Never the memory cgroup's OOM victim where we may say so (CAP_SYS_RESOURCE); each run
        # also raises its own score to the maximum, so that even without it the OOM killer takes
        # the run's processes first.
        with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as f:
            f.write("-1000")
        for procs in sys.argv[2:]:
            with open(procs, "w") as f:
                f.write(str(os.getpid()))
        _harden(ctypes.CDLL(None, use_errno=True))
    # Orphans (the namespace init, once the outer bwrap has exited) come to us, not to the host's
    # init: we reap them between runs, so no zombie keeps counting against the pids limit.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    _send(sock, ready=os.getpid())
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, 8)
        except ConnectionResetError:
            return
        if not data:
            for fd in fds:
                os.close(fd)
            return
        req = json.loads(data)
        _reap_orphans()
        if req.get("op") != "run":
            for fd in fds:
                os.close(fd)
            continue
        if not _serve_run(sock, req, fds):
            return


if __name__ == "__main__":
    main()
