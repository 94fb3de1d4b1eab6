"""A slot's zygote: the process inside the slot's house that every run of that slot is forked from.

The house is one bwrap sandbox per slot, started once: the slot's unprivileged uid, new user,
network, PID, IPC, UTS and mount namespaces, only system directories read-only, the compile cache
bound at /.oorl/cache. Its only process of ours is this zygote, which keeps two capabilities inside
the house's user namespace (CAP_SYS_ADMIN for namespaces and mounts, CAP_SETPCAP to empty the
bounding set) and none outside it. Starting bwrap per run cost about 3 ms of namespace and mount
set-up; forking from here costs a fraction of that.

    our process  --(socketpair: a JSON request + the run's stdin/stdout/stderr fds)-->  zygote
    zygote -> fork into a new PID namespace: the run's init
      init: new mount, IPC and UTS namespaces; fresh /proc; its own size-capped /tmp and /dev/shm;
            /box bound from the cache (read-only for tests), the rest of the cache unmounted;
            rlimits, oom_score_adj 1000, every capability dropped, no_new_privs, not dumpable
        -> posix_spawn the program: its own session, stdin/stdout/stderr, default signals

Each run thus gets the namespaces a bwrap run had, except the network namespace, which holds
nothing but loopback and is shared by the slot's runs one after another (sockets die with their
processes). The init reports the program's wait status and exits, which kills whatever the program
left behind in its PID namespace; the zygote reaps the init only after that, so a run whose status
we report has no process left. The program cannot see the zygote (another PID namespace) or signal
its init (a namespace init ignores signals it has no handler for), nor ptrace it (not dumpable).

It speaks the launcher's protocol (see `launcher.py`): a run request gets {"id", "pid"} and then
{"id", "status"} (the program's wait status; SIGKILL when its init was killed first), or
{"id", "error"} when the program could not be started; {"op": "kill", "id"} kills a run.

This file runs as `python3 -I -S -c <this source>` inside the house (standard library only).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import os
import resource
import select
import signal
import socket
import time

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID = 0x20000, 0x04000000, 0x08000000, 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_SLAVE = 32, 4096, 16384, 1 << 19
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
CACHE = "/.oorl/cache"  # where the house binds the compile cache
MAX_MESSAGE = 1 << 20
BACKSTOP_S = 10.0  # beyond the run's own wall limit, which our process enforces first

libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    encode = lambda s: None if s is None else s.encode()  # noqa: E731
    _check(
        libc.mount(encode(source), target.encode(), encode(fstype), ctypes.c_ulong(flags), encode(data)),
        f"mount {target}",
    )


def _bind(source: str, target: str, writable: bool) -> None:
    _mount(source, target, None, MS_BIND | MS_REC)
    _mount(None, target, None, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | (0 if writable else MS_RDONLY))


def _drop_bounding_set() -> None:
    """No capability can come back with an exec, and nothing can gain privileges (inherited by every
    run; the zygote itself never execs)."""
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last = int(f.read())
    for cap in range(last + 1):
        _check(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), f"drop capability {cap}")


def _init(channel: socket.socket) -> None:
    """The next run's init (PID 1 of its namespace), forked before the run is asked for: it sets up
    what every run has, then waits on `channel` for its request and the program's stdin, stdout and
    stderr, sets the run up, spawns the program and reports its wait status. Never returns."""
    req = {"argv": ["the program"]}
    try:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # the zygote died: so does the run
        libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # our /proc/self files are ours again, until the end
        os.close(0)  # the zygote's socket
        _check(libc.unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
        _mount(None, "/", None, MS_REC | MS_SLAVE)  # nothing we mount reaches the house
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        _check(libc.sethostname(b"sandbox", 7), "sethostname")
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")  # the memory cgroup's OOM killer takes the run, never the house

        data, fds, _, _ = socket.recv_fds(channel, MAX_MESSAGE, 8)
        if not data:
            os._exit(0)  # the zygote is gone
        req = json.loads(data)
        for fd in fds:
            os.set_inheritable(fd, False)  # the program gets its own 0, 1, 2 and nothing else
        # The writable file systems share the disk budget: /dev/shm an eighth, /tmp the rest.
        shm = req["disk_bytes"] // 8
        _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={req['disk_bytes'] - shm},mode=0755")
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"size={shm},mode=1777")
        if req["box"] is not None:
            _bind(f"{CACHE}/{req['box']}", "/box", req["box_writable"])
        for source, target in req["binds"]:
            os.makedirs(target, exist_ok=True)  # under /tmp: the root is read-only
            _bind(f"{CACHE}/{source}", target, True)
        # no other program's files: the cache's mount is hidden under an empty one (it cannot be
        # unmounted: it came from the house's mount namespace, which belongs to bwrap's user namespace)
        _mount("tmpfs", "/.oorl", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0")
        os.chdir(req["cwd"])
        for name, soft, hard in req["rlimits"]:
            resource.setrlimit(getattr(resource, name), (soft, hard))
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
        _check(libc.capset(header, (ctypes.c_uint32 * 6)()), "drop every capability")
        _check(libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "not dumpable")  # the program cannot ptrace us
        for sig in (signal.SIGINT, signal.SIGPIPE, signal.SIGXFSZ):  # what Python changed
            signal.signal(sig, signal.SIG_DFL)  # default: an init ignores them from inside
        program = os.posix_spawn(
            req["argv"][0],
            req["argv"],
            req["env"],
            file_actions=[(os.POSIX_SPAWN_DUP2, fd, target) for target, fd in enumerate(fds)],
            setsid=True,
            setsigmask=(),
            setsigdef=(signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT),
        )
        for fd in fds:
            os.close(fd)
        while True:  # reap orphans until the program itself exits
            pid, status = os.waitpid(-1, 0)
            if pid == program:
                break
        # Then whatever it left (daemons, setsid children): every other process of this PID
        # namespace, each of them a child of ours once its parent is dead. When none is left, the run
        # is over, and we report it before our own exit tears the namespaces down.
        with contextlib.suppress(ProcessLookupError):  # none
            os.kill(-1, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            while True:
                os.waitpid(-1, 0)
        channel.send(json.dumps({"status": status}).encode())
        os._exit(0)
    except BaseException as e:  # noqa: BLE001 - report anything, then die
        with contextlib.suppress(OSError):
            channel.send(json.dumps({"error": f"cannot start {req['argv'][0]}: {e}"}).encode())
        os._exit(127)


class _Spare:
    """The next run's init, forked into a new PID namespace ahead of the request."""

    def __init__(self, own_pid_ns: int):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.pid = -1
        try:
            _check(libc.unshare(CLONE_NEWPID), "unshare PID namespace")  # for our next child only
            self.pid = os.fork()
        except OSError:
            ours.close()
            raise
        finally:
            if self.pid != 0:  # back to our own namespace for the children after it
                _check(libc.setns(own_pid_ns, CLONE_NEWPID), "setns")
            if self.pid == 0:
                ours.close()
                _init(theirs)
            theirs.close()
        self.channel = ours


def _send(sock: socket.socket, **message) -> bool:
    try:
        sock.send(json.dumps(message).encode())
    except OSError:
        return False
    return True


def _serve_run(sock: socket.socket, req: dict, fds: list[int], init: _Spare) -> tuple[bool, int | None]:
    """Hand one run to `init`, report its program's status. Returns whether our process is still
    there, and the pid of the init if it is still exiting (to reap before the next run)."""
    deadline = time.monotonic() + req["wall_s"] + BACKSTOP_S
    try:
        socket.send_fds(init.channel, [json.dumps(req).encode()], fds)
    except OSError as e:  # it died since we looked (killed from outside)
        return _send(sock, id=req["id"], error=f"the run's init is gone: {e}"), None
    finally:
        for fd in fds:
            os.close(fd)
    pidfd = os.pidfd_open(init.pid)
    watch = [sock, init.channel, pidfd]
    try:
        if not _send(sock, id=req["id"], pid=init.pid):
            watch.remove(sock)
            _kill(init.pid)
        while True:
            ready, _, _ = select.select(watch, [], [], max(0.0, deadline - time.monotonic()))
            if init.channel in ready or pidfd in ready:
                init.channel.setblocking(False)
                try:
                    report = json.loads(init.channel.recv(MAX_MESSAGE) or "{}")
                except BlockingIOError:
                    report = {}
                if report:  # nothing of the run is left but its init, now exiting
                    return sock in watch and _send(sock, id=req["id"], **report), init.pid
                # the init was killed before the program ended: so was the program
                _, status = os.waitpid(init.pid, 0)
                report = {"status": signal.SIGKILL if os.WIFSIGNALED(status) else status}
                return sock in watch and _send(sock, id=req["id"], **report), None
            if sock in ready:
                try:
                    data = sock.recv(MAX_MESSAGE)
                except OSError:
                    data = b""
                if not data:  # our process died: take the run down with us
                    watch.remove(sock)
                    _kill(init.pid)
                elif json.loads(data) == {"op": "kill", "id": req["id"]}:
                    _kill(init.pid)
            elif not ready:  # the backstop: our process stopped watching this run
                _kill(init.pid)
                deadline = time.monotonic() + 3600
    finally:
        os.close(pidfd)
        init.channel.close()


def _kill(pid: int) -> None:
    """SIGKILL a run's init, and with it its whole PID namespace."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def main() -> None:
    _check(libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "not dumpable")
    # bwrap's PID namespace belongs to a user namespace above ours, where we have no capability: the
    # zygote proper is the init of a PID namespace of our own, so that it may return to it (setns)
    # after creating each run's.
    _check(libc.unshare(CLONE_NEWPID), "unshare PID namespace")
    zygote = os.fork()
    if zygote != 0:
        os.close(0)
        _, status = os.waitpid(zygote, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    sock = socket.socket(fileno=0)
    own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    _drop_bounding_set()
    gc.disable()  # nothing here makes cycles; a collection would only touch pages each fork copies
    gc.freeze()
    _send(sock, ready=os.getpid())
    spare: _Spare | None = None
    exiting: int | None = None  # the last run's init
    while True:
        if spare is None:  # forked while our process looks at the last run's results
            with contextlib.suppress(OSError):  # the pids cgroup is full: try again on demand
                spare = _Spare(own_pid_ns)
        try:
            data, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, 8)
        except ConnectionResetError:
            return
        if not data:
            for fd in fds:
                os.close(fd)
            return
        req = json.loads(data)
        if req.get("op") != "run":
            for fd in fds:
                os.close(fd)
            continue
        if exiting is not None:  # it tore its namespaces down meanwhile: gone before the next run
            os.waitpid(exiting, 0)
            exiting = None
        if spare is not None and os.waitpid(spare.pid, os.WNOHANG)[0] != 0:
            spare = None  # killed while it waited (an OOM kill, a sweep): fork another
        try:
            init = spare or _Spare(own_pid_ns)
        except OSError as e:  # the pids cgroup is full, or the machine is
            for fd in fds:
                os.close(fd)
            if not _send(sock, id=req["id"], error=f"fork: {e}"):
                return
            continue
        spare = None
        answered, exiting = _serve_run(sock, req, fds, init)
        if not answered:
            return


if __name__ == "__main__":
    main()
