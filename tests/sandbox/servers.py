"""`oorl sandbox serve` processes for tests: started on a free loopback port, stopped for sure."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

SRC = Path(__file__).resolve().parents[2] / "src"


class Server:
    def __init__(self, *args: str, token: str | None = None, start_timeout_s: float = 90):
        self.token = token
        self._dir = tempfile.TemporaryDirectory(prefix="oorl-serve-test-")
        command = [sys.executable, "-m", "oorl.cli", "sandbox", "serve", "--port", "0", *args]
        if token:
            token_file = Path(self._dir.name) / "token"
            token_file.write_text(token + "\n")
            command += ["--token-file", str(token_file)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
        self.stderr_path = Path(self._dir.name) / "stderr"
        self._stderr = open(self.stderr_path, "w")  # noqa: SIM115 - closed in stop()
        # a session of its own: stop() kills the server and every sandbox process under it
        self.proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=self._stderr, text=True, env=env, start_new_session=True
        )
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in self.proc.stdout], daemon=True).start()
        deadline = time.monotonic() + start_timeout_s
        while True:
            try:
                line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                self.stop()
                raise RuntimeError(f"the server did not start: {self.stderr()}") from None
            if "listening on " in line:
                self.url = line.split("listening on ")[1].split()[0]
                break

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, path: str, **kw) -> httpx.Response:
        return httpx.get(self.url + path, headers=self.headers, timeout=30, **kw)

    def post(self, path: str, **kw) -> httpx.Response:
        headers = {**self.headers, **kw.pop("headers", {})}
        return httpx.post(self.url + path, headers=headers, timeout=60, **kw)

    def metric(self, name: str) -> float:
        """The sum of a metric's samples in /metrics (0 if absent)."""
        total = 0.0
        for line in self.get("/metrics").text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def stderr(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text()

    def terminate(self, timeout_s: float = 120) -> int:
        """SIGTERM to the server alone, as an orchestrator sends it; its exit status."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout_s)

    def stop(self) -> int:
        """SIGKILL to the whole session, as if the machine died; the server's exit status."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        code = self.proc.wait(timeout=60)
        self._stderr.close()
        _remove_cgroups(self.proc.pid)
        return code

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        self._dir.cleanup()


def descendants(pid: int) -> list[tuple[int, str]]:
    """(pid, command name) of every process under `pid`."""
    children: dict[int, list[int]] = {}
    names = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
        children.setdefault(int(rest[1]), []).append(int(entry))
        names[int(entry)] = name
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append((child, names[child]))
            todo.append(child)
    return found


def _remove_cgroups(pid: int, timeout_s: float = 5.0) -> None:
    """The slot cgroups of a server that was killed (a server that exits removes its own): they
    empty as the killed processes are reaped."""
    deadline = time.monotonic() + timeout_s
    for cgroup in Path("/sys/fs/cgroup").glob(f"*/oorl/slot*-{pid}"):
        while cgroup.exists():
            try:
                cgroup.rmdir()
            except OSError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
