"""A slot's house: bwrap, started once by the launcher, and the run server inside it (`init.c`)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import resource
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from oorl.sandbox.cgroups import Capabilities, capabilities
from oorl.sandbox.clients import Launcher, LauncherLost, Server
from oorl.sandbox.runs import BASE_ENV, SandboxUnavailable

if TYPE_CHECKING:
    from oorl.sandbox.slot import Slot

_RO_DIRS = ("/usr", "/etc", "/var/lib/ghc")  # everything a toolchain reads; /root, /home, /work stay hidden
_USR_LINKS = ("bin", "lib", "lib64", "sbin", "lib32", "libx32")

_INIT_SOURCE = Path(__file__).with_name("init.c")
_HOUSE_CACHE = "/.oorl/cache"  # where the house binds the compile cache (CACHE in init.c)
_FOREVER_S = 1e7  # the house's wall limit at the launcher: it lives as long as the slot


_ACCOUNT_FDS = (3, 4)  # where the house's bwrap reads its /etc/passwd and /etc/group


def _accounts(uid: int) -> list[int]:
    """The host's /etc/passwd and /etc/group with the slot's uid added (memfds, read by bwrap).

    A uid with no entry sends every lookup (bash resolves its own at start, and `id`, `whoami` and
    Python's getpass alike) past the files to libnss_systemd, about 0.25 ms per process here."""
    fds = []
    for path, entry in (
        ("/etc/passwd", f"sandbox:x:{uid}:{uid}:oorl sandbox:/tmp:/usr/sbin/nologin\n"),
        ("/etc/group", f"sandbox:x:{uid}:\n"),
    ):
        text = Path(path).read_text() if os.path.exists(path) else ""
        fd = os.memfd_create(Path(path).name)
        os.write(fd, (text + ("" if text.endswith("\n") or not text else "\n") + entry).encode())
        os.lseek(fd, 0, os.SEEK_SET)
        fds.append(fd)
    return fds


def _house_argv(caps: Capabilities, cache_root: Path) -> list[str]:
    argv = [
        caps.bwrap,
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--hostname",
        "sandbox",
        # inside the house's user namespace only: namespaces and mounts for each run, and emptying
        # bounding sets (see init.c; every run drops all of them before its program starts)
        "--cap-add",
        "CAP_SYS_ADMIN",
        "--cap-add",
        "CAP_SETPCAP",
    ]
    for d in _RO_DIRS:
        if os.path.isdir(d):
            argv += ["--ro-bind", d, d]
    for name in _USR_LINKS:  # merged-/usr systems link these into /usr; older ones have real directories
        if os.path.islink(f"/{name}"):
            argv += ["--symlink", os.readlink(f"/{name}"), f"/{name}"]
        elif os.path.isdir(f"/{name}"):
            argv += ["--ro-bind", f"/{name}", f"/{name}"]
    argv += ["--ro-bind-data", str(_ACCOUNT_FDS[0]), "/etc/passwd"]
    argv += ["--ro-bind-data", str(_ACCOUNT_FDS[1]), "/etc/group"]
    argv += ["--proc", "/proc", "--dev", "/dev", "--dir", "/tmp", "--dir", "/box"]
    argv += ["--bind", str(cache_root), _HOUSE_CACHE]
    # bwrap builds the root and /dev as tmpfs: writable, they would bypass the disk budget
    argv += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", "/", "--clearenv"]
    argv += ["--setenv", "PATH", BASE_ENV["PATH"], "--"]
    return argv + [f"{_HOUSE_CACHE}/{build_init(cache_root).relative_to(cache_root)}"]


def build_init(cache_root: Path) -> Path:
    """The run server (`init.c` and its `seccomp.h`), compiled once per version of its source into
    the compile cache, where the house finds it."""
    source = _INIT_SOURCE.read_bytes() + _INIT_SOURCE.with_name("seccomp.h").read_bytes()
    target = cache_root / "init" / hashlib.sha256(source).hexdigest()[:16] / "oorl-init"
    if target.exists():
        return target
    cc = capabilities().cc
    if cc is None:
        raise SandboxUnavailable("the sandbox builds its run server with a C compiler: apt-get install gcc")
    target.parent.parent.mkdir(mode=0o755, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent.parent, ignore_cleanup_errors=True) as tmp:
        built = Path(tmp) / "oorl-init"
        for static in (["-static"], []):  # static starts faster; not every libc ships libc.a
            compiled = subprocess.run(
                [cc, "-O2", "-Wall", *static, "-o", str(built), str(_INIT_SOURCE)],
                capture_output=True,
                text=True,
            )
            if compiled.returncode == 0:
                break
        else:
            raise SandboxUnavailable(f"cannot build the sandbox's run server:\n{compiled.stderr[-2000:]}")
        for path in (built, Path(tmp)):  # the slot's uid runs it, whatever our umask
            path.chmod(0o755)
        with contextlib.suppress(OSError):  # another process built it first
            Path(tmp).rename(target.parent)
    return target


class House(Server):
    """A slot's house: bwrap, started by the launcher as one long run, and the run server inside it
    (`init.c`). Its messages are written down once, at the top of init.c."""

    def __init__(self, launcher: Launcher, slot: Slot):
        super().__init__()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the house; bwrap's complaints, if any
        accounts = _accounts(slot.uid)
        try:
            with open(os.devnull, "rb") as devnull:
                self.run = launcher.start(  # the fds become the house's 0, 1, 2 and _ACCOUNT_FDS
                    [theirs.fileno(), devnull.fileno(), self.log.fileno(), *accounts],
                    argv=_house_argv(capabilities(), slot.cache_root),
                    env={"PATH": BASE_ENV["PATH"]},  # bwrap keeps it; the house gets only --setenv's
                    rlimits=[],
                    uid=slot.uid if capabilities().root else None,
                    wall_s=_FOREVER_S,
                )
        except LauncherLost as e:
            raise SandboxUnavailable(f"cannot start the sandbox house: {e}") from None
        finally:
            theirs.close()
            for fd in accounts:
                os.close(fd)
        self.sock = ours
        self.launcher = launcher
        self._ready()
        chain = _house_chain(launcher.pid)
        self.resident, self.server_pid = frozenset(chain), chain[-1]
        self.memory_bytes = 0
        if capabilities().root:
            for pid in self.resident:  # the run is the memory cgroup's OOM victim, never the house
                with contextlib.suppress(OSError), open(f"/proc/{pid}/oom_score_adj", "w") as f:
                    f.write("-1000")
        if slot.memory_cg is not None:  # what the house itself is charged, on top of each run's limit
            with contextlib.suppress(OSError, ValueError):
                self.memory_bytes = int((slot.memory_cg / "memory.usage_in_bytes").read_text())

    def run_message(self, run_id: int, request: dict) -> bytes:
        rlimits = [(getattr(resource, name), soft, hard) for name, soft, hard in request["rlimits"]]
        args = [
            "oorl-init",
            request["disk_bytes"],
            request["cwd"],
            request["box"] or "-",
            int(request["box_writable"]),
            len(rlimits),
            *(value for limit in rlimits for value in limit),
            "--",
            *request["argv"],
        ]
        env = [f"{key}={value}" for key, value in request["env"].items()]
        strings = ["run", run_id, int(request["wall_s"] * 1000), len(args), *args, *env]
        return b"".join(str(s).encode("utf-8", "surrogateescape") + b"\0" for s in strings)

    def kill_message(self, run_id: int) -> bytes:
        return f"kill\0{run_id}\0".encode()

    def spare(self) -> frozenset[int]:
        """Host pids of the next run, prepared and waiting for its request (its init and runner; see
        init.c), once the server has reaped the last run's init and prepared it; else empty."""
        if self._current is not None and not self._current.done:
            return frozenset()
        inits = _children(self.server_pid)  # every run's init is the run server's child
        runners = _children(inits[0]) if len(inits) == 1 else []
        if len(runners) == 1 and not _children(runners[0]):
            return frozenset({inits[0], runners[0]})
        return frozenset()

    def __str__(self) -> str:
        self.log.seek(0)
        complaint = self.log.read()[-2000:].decode(errors="replace").strip()
        return "the sandbox house" + (f" ({complaint})" if complaint else "")

    def alive(self) -> bool:
        return not self.run.poll() and self.sock.fileno() >= 0

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()  # the run server sees EOF and exits, and bwrap with it
        if not self.run.wait(timeout=5):
            self.run.kill()
            self.run.wait(timeout=5)
        self.log.close()


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def _house_chain(launcher: int) -> list[int]:
    """Host pids of a house's long-lived processes: the launcher, bwrap, and the run server (two
    processes: the second is the init of the PID namespace every run's own lies in), each the only
    child of the one before."""
    chain, pid = [launcher], launcher
    while (kids := _children(pid)) and len(kids) == 1:
        pid = kids[0]
        chain.append(pid)
        with contextlib.suppress(OSError), open(f"/proc/{pid}/comm") as f:
            if f.read().strip() == "oorl-init":  # the run server: one more, its PID namespace's init
                chain += _children(pid)[:1]
                break
    return chain
