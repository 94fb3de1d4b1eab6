"""Our end of the processes that fork runs on request: the slot's launcher (`launcher.py`, JSON both
ways) and, through `house.py`, the house's run server (`init.c`). One run at a time per server, its
messages on a SOCK_SEQPACKET socket."""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

from oorl.sandbox.runs import SandboxUnavailable

_LAUNCHER_SCRIPT = str(Path(__file__).with_name("launcher.py"))


class LauncherLost(RuntimeError):
    """The slot's launcher or house died (or stopped answering) during a run."""


class Server:
    """Our end of a process that forks runs on request (a launcher, a house's run server): one run at a
    time, its messages on a SOCK_SEQPACKET socket."""

    sock: socket.socket

    def __init__(self):
        self._ids = 0
        self._current: Run | None = None

    def _receive(self, timeout: float | None) -> dict:
        """The next message; {} on timeout. Raises LauncherLost if the server is gone."""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return {}
        try:
            data = self.sock.recv(1 << 16)
        except OSError as e:
            raise LauncherLost(str(e)) from None
        if not data:
            raise LauncherLost(f"{self} exited")
        return json.loads(data)

    def _ready(self) -> int:
        try:
            ready = self._receive(timeout=30)
        except LauncherLost as e:
            ready, why = {}, f"{self} did not start: {e}"
        else:
            why = f"{self} did not start in 30 s"
        if "ready" not in ready:
            self.close()
            raise SandboxUnavailable(why)
        return ready["ready"]

    def start(self, fds: list[int], **request) -> Run:
        if self._current is not None and not self._current.wait(timeout=30):
            # one run at a time: the server reads nothing but kill requests until it has reaped
            # the last one (normally long done: we stop waiting for it once it reports the exit)
            raise LauncherLost(f"{self} did not finish the previous run in 30 s")
        self._ids += 1
        try:
            socket.send_fds(self.sock, [self.run_message(self._ids, request)], fds)
        except OSError as e:
            raise LauncherLost(str(e)) from None
        self._current = Run(self, self._ids)  # its pid (or why it could not fork) comes as a message
        return self._current

    def run_message(self, run_id: int, request: dict) -> bytes:
        return json.dumps({"op": "run", "id": run_id, **request}).encode()

    def kill_message(self, run_id: int) -> bytes:
        return json.dumps({"op": "kill", "id": run_id}).encode()


class Launcher(Server):
    """A slot's launcher process (see `oorl.sandbox.launcher`)."""

    def __init__(self, cgroup_procs: list[Path]):
        super().__init__()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = subprocess.Popen(
                [sys.executable or "/usr/bin/python3", "-I", "-S", _LAUNCHER_SCRIPT, str(theirs.fileno())]
                + [str(p) for p in cgroup_procs],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
                close_fds=True,
                start_new_session=True,  # terminal signals (Ctrl-C) are for us; it follows our lifetime
                env={"PATH": "/usr/bin:/bin"},
                cwd="/",
            )
        finally:
            theirs.close()
        self.sock = ours
        self.pid: int = self._ready()

    def __str__(self) -> str:
        return "the sandbox launcher"

    def alive(self) -> bool:
        return self.proc.poll() is None and self.sock.fileno() >= 0

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()  # the launcher sees EOF and exits
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Run:
    """One run forked by a server. Its messages: the pid once forked (or why it could not start),
    the wait status once over. `returncode` as `Popen`'s."""

    def __init__(self, server: Server, run_id: int):
        self.server, self.id = server, run_id
        self.pid: int | None = None
        self.returncode: int | None = None
        self.cpu_s: float | None = None  # every process of the run together, when the server says
        self.error = ""  # the server could not start it
        self.lost = False  # the server died or stopped answering

    @property
    def done(self) -> bool:
        return self.returncode is not None or bool(self.error) or self.lost

    def wait(self, timeout: float | None = None) -> bool:
        """Whether the run is over (reaped, never started, or lost), waiting at most `timeout` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                message = self.server._receive(remaining)
            except LauncherLost:
                self.lost = True  # bwrap and every run die with their parent
                break
            if not message:  # timed out
                break
            if message.get("id") != self.id:
                continue  # about an earlier run, which we did not wait for
            if "status" in message:
                self.returncode = os.waitstatus_to_exitcode(message["status"])
                if message.get("cpu_us", -1) >= 0:
                    self.cpu_s = message["cpu_us"] / 1e6
            elif "error" in message:
                self.error = message["error"]
            elif "pid" in message:
                self.pid = message["pid"]
        return self.done

    def poll(self) -> bool:
        return self.wait(0.0)

    def kill(self) -> None:
        """SIGKILL the run (the server does it: it has not reaped the run yet)."""
        if not self.done:
            with contextlib.suppress(OSError):
                self.server.sock.send(self.server.kill_message(self.id))
