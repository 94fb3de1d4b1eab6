"""A slot's zygote: the process inside the slot's house that starts every run of that slot.

The house is one bwrap sandbox per slot, started once: the slot's unprivileged uid, new user,
network, PID, IPC, UTS and mount namespaces, only system directories read-only, the compile cache
bound at /.oorl/cache. Its only process of ours is this zygote, which keeps two capabilities inside
the house's user namespace (CAP_SYS_ADMIN for namespaces and mounts, CAP_SETPCAP to empty the
bounding set) and none outside it. Starting bwrap per run cost about 3 ms of namespace and mount
set-up; spawning a run from here costs a fraction of that.

    our process  --(socketpair: a JSON request + the run's stdin/stdout/stderr fds)-->  zygote
    zygote  --(socketpair: the init's arguments and environment + those fds and a report pipe)-->
    run server (`init.c`, started once) -> fork, into a new PID namespace: the run's init
      init: new mount, IPC and UTS namespaces; a fresh /proc; its own size-capped /tmp and
            /dev/shm; /box bound from the cache (read-only for tests), the rest of the cache hidden;
            rlimits, oom_score_adj 1000, every capability dropped, not dumpable
        -> fork and exec the program: its own session, its stdin/stdout/stderr, default signals

Each run thus gets the namespaces a bwrap run had, except the network namespace, which holds
nothing but loopback and is shared by the slot's runs one after another (sockets die with their
processes). When the program exits, its init kills and reaps whatever it left, reports the
program's wait status and exits; the zygote answers once the server has reaped the init, so a run
whose status we report has no process left. The program cannot see the zygote (another PID namespace), signal
its init (a namespace's init ignores signals it has no handler for), nor ptrace it (not dumpable).
Every run inherits an empty bounding set and no_new_privs, set here once.

It speaks the launcher's protocol (see `launcher.py`), less the pid message nobody needs: a run
request gets {"id", "status"} (the program's wait status; SIGKILL when its init was killed first),
or {"id", "error"} when the program could not be started; {"op": "kill", "id"} kills a run.

This file runs as `python3 -I -S -c <this source> <path of the run server>` inside the house
(standard library only). It keeps the protocol, the kill requests and the clock; the server only
forks and reaps, which costs a C process a fraction of what it costs this one.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import select
import signal
import socket
import sys
import time

CLONE_NEWPID = 0x20000000
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
MAX_MESSAGE = 1 << 20
BACKSTOP_S = 10.0  # beyond the run's own wall limit, which our process enforces first

libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _drop_bounding_set() -> None:
    """No capability can come back with an exec, and nothing can gain privileges (inherited by every
    run; the zygote itself never execs)."""
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last = int(f.read())
    for cap in range(last + 1):
        _check(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), f"drop capability {cap}")


def _init_argv(req: dict) -> list[str]:
    """The arguments of a run's init (`init.c`) for one run request."""
    binds = [path for pair in req["binds"] for path in pair]
    rlimits = [str(v) for name, soft, hard in req["rlimits"] for v in (getattr(resource, name), soft, hard)]
    return [
        "oorl-init",
        str(req["disk_bytes"]),
        req["cwd"],
        req["box"] or "-",
        "1" if req["box_writable"] else "0",
        str(len(req["binds"])),
        *binds,
        str(len(req["rlimits"])),
        *rlimits,
        "--",
        *req["argv"],
    ]


def _send(sock: socket.socket, **message) -> bool:
    try:
        sock.send(json.dumps(message).encode())
    except OSError:
        return False
    return True


def _parse_report(report: bytes, status: int) -> dict:
    """What the init wrote (`status N` or `error WHY`), given its own wait status."""
    lines = report.decode(errors="replace").splitlines()
    for line in lines:
        if line.startswith("error "):
            return {"error": line.removeprefix("error ")}
    for line in lines:
        if line.startswith("status "):
            return {"status": int(line.removeprefix("status "))}
    # the init was killed before the program ended (our kill, the OOM killer): so was the program
    return {"status": signal.SIGKILL if os.WIFSIGNALED(status) else status}


def _serve_run(sock: socket.socket, req: dict, fds: list[int], server: socket.socket) -> bool:
    """Start one run, report its program's status. False when our process is gone."""
    deadline = time.monotonic() + req["wall_s"] + BACKSTOP_S
    report_r, report_w = os.pipe()
    env = [f"{key}={value}" for key, value in req["env"].items()]
    request = "\0".join([*_init_argv(req), "", *env, ""]).encode()
    try:
        socket.send_fds(server, [request], [*fds, report_w])
        init = _answer(server, "pid")
    except OSError as e:
        os.close(report_r)
        return _send(sock, id=req["id"], error=f"cannot start the run's init: {e}")
    finally:
        os.close(report_w)
        for fd in fds:
            os.close(fd)
    watch = [sock, server]
    try:
        while True:
            ready, _, _ = select.select(watch, [], [], max(0.0, deadline - time.monotonic()))
            if server in ready:
                status = _answer(server, "exit")  # the init is reaped: nothing of the run is left
                report = _parse_report(os.read(report_r, MAX_MESSAGE), status)
                return sock in watch and _send(sock, id=req["id"], **report)
            if sock in ready:
                try:
                    data = sock.recv(MAX_MESSAGE)
                except OSError:
                    data = b""
                if not data:  # our process died: take the run down with us
                    watch.remove(sock)
                    _kill(init)
                elif json.loads(data) == {"op": "kill", "id": req["id"]}:
                    _kill(init)
            elif not ready:  # the backstop: our process stopped watching this run
                _kill(init)
                deadline = time.monotonic() + 3600
    finally:
        os.close(report_r)


def _answer(server: socket.socket, expected: str) -> int:
    """The server's next answer, `<expected> N`, as N."""
    answer = server.recv(128).decode()
    if not answer:
        raise SystemExit("the run server died")  # the house goes, and is started anew
    word, _, number = answer.partition(" ")
    if word == "error":
        raise OSError(int(number), os.strerror(int(number)))
    if word != expected:
        raise SystemExit(f"the run server answered {answer!r}")
    return int(number)


def _kill(pid: int) -> None:
    """SIGKILL a run's init, and with it its whole PID namespace."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def main() -> None:
    init_path = sys.argv[1]
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
    _drop_bounding_set()
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    os.posix_spawn(init_path, [init_path], {}, file_actions=[(os.POSIX_SPAWN_DUP2, theirs.fileno(), 0)])
    theirs.close()
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
        for fd in fds:
            os.set_inheritable(fd, False)  # the run gets them as 0, 1, 2 and nothing else
        req = json.loads(data)
        if req.get("op") != "run":
            for fd in fds:
                os.close(fd)
            continue
        if not _serve_run(sock, req, fds, ours):
            return


if __name__ == "__main__":
    main()
