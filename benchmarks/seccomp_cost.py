"""What the sandbox's seccomp filters cost a run, side by side with no filter.

A small launcher is built from the run server's own source (`init.c` and its `seccomp.h`): it forks,
execs the program and waits, in one of three ways:
  none       no filter;
  per run    the whole deny list attached in each child before exec (its cost grows with the list:
             the kernel runs a new filter once per syscall number to cache the always-allowed ones);
  sandbox    what the sandbox does: the list attached once, in the launcher, inherited by every
             child, and each child adds the runner's three-call filter before exec.
Each language's trivial program runs in alternating rounds of the three, so all see the same machine
load; the table prints the median per run, and the sandbox's cost against none.

    python benchmarks/seccomp_cost.py [--runs 200]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

import oorl.sandbox

LAUNCHER = r"""
#define main run_server_main
#include "%s"
#undef main
#include <time.h>
int main(int argc, char **argv) {
    static struct run shared;
    run = &shared; /* fail() reports through it */
    int mode = argv[1][0] - '0', rounds = atoi(argv[2]); /* 0 none, 1 per run, 2 sandbox */
    struct timespec a, b;
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (mode == 2 && install_seccomp() != 0) return 1;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < rounds; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            if (mode == 1 && install_seccomp() != 0) _exit(127);
            if (mode != 0) deny_namespaces();
            execv(argv[3], argv + 3);
            _exit(127);
        }
        int status;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%%.6f\n", ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9) / rounds);
    return 0;
}
"""
PROGRAMS = {
    "python": ["/usr/bin/python3", "-c", "pass"],
    "php": ["/usr/bin/php", "-r", ";"],
    "bash": ["/bin/bash", "-c", ":"],
    "javascript": ["/usr/bin/node", "-e", "0"],
    "c (true)": ["/bin/true"],
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=200, help="runs per way and language")
    parser.add_argument(
        "--rounds", type=int, default=10, help="alternating rounds (runs are split among them)"
    )
    args = parser.parse_args()
    init_c = Path(oorl.sandbox.__file__).with_name("init.c")
    with tempfile.TemporaryDirectory() as tmp:
        source, launcher = Path(tmp, "launcher.c"), Path(tmp, "launcher")
        source.write_text(LAUNCHER % init_c)
        subprocess.run(["gcc", "-O2", "-o", str(launcher), str(source)], check=True)
        table = Table(title=f"seccomp filter cost, {args.runs} runs per way (median of {args.rounds} rounds)")
        for col in ("program", "none ms", "per run ms", "sandbox ms", "sandbox x", "sandbox cost ms"):
            table.add_column(col, justify="right")
        per_round = max(1, args.runs // args.rounds)
        for name, argv in PROGRAMS.items():
            if not Path(argv[0]).exists():
                continue
            sides: dict[str, list[float]] = {"0": [], "1": [], "2": []}
            for _ in range(args.rounds):
                for side in sides:
                    out = subprocess.run(
                        [str(launcher), side, str(per_round), *argv],
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    sides[side].append(float(out.stdout))
            bare, per_run, shared = (statistics.median(sides[k]) for k in "012")
            table.add_row(
                name,
                f"{bare * 1e3:.2f}",
                f"{per_run * 1e3:.2f}",
                f"{shared * 1e3:.2f}",
                f"{shared / bare:.3f}",
                f"{(shared - bare) * 1e3:+.3f}",
            )
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
