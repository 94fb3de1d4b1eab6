"""Integrity of verdicts: no cache one submission writes is read by another, a compile step cannot
hang or crash the judge, a harness verdict cannot be forged by exiting early, the kernel surface is
narrowed by seccomp, and cpu_s bounds a whole run."""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from oorl.sandbox import JudgeRequest, Limits, Sandbox, StdioTest, Verdict

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def sandbox():
    # one worker: every submission runs in the same slot, as the ones a poisoned cache would meet
    with tempfile.TemporaryDirectory() as cache, Sandbox(workers=1, cache_dir=cache) as sb:
        yield sb


def stdio(sandbox: Sandbox, language: str, code: str, expected: str, **limits):
    request = JudgeRequest(
        language=language,
        code=code,
        tests=[StdioTest(stdin="", expected=expected)],
        limits=Limits(**limits) if limits else None,
    )
    return sandbox.judge(request)


# --- caches -------------------------------------------------------------------------------------

# Debian's Go 1.19.8 (CVE-2023-39323): a //line directive lets ordinary source pass the linker a
# `-wrapper` flag, so gcc runs a shell at link time, inside the compile step, with GOCACHE set.
GO_LINK_TIME_SHELL = """package main

//line _cgo_attack.go:1
//go:cgo_ldflag "-wrapper"
//go:cgo_ldflag "/bin/sh,-c,{shell};exec $0 $@"

import "C"
import ("fmt"; "os")

func main() {{
	if _, err := os.Stat("/box/found"); err == nil {{ fmt.Println("poisoned") }} else {{ fmt.Println("{says}") }}
}}
"""


def test_a_go_compile_step_cannot_leave_anything_for_the_next(sandbox):
    plant = GO_LINK_TIME_SHELL.format(shell="echo planted >$GOCACHE/oorl-poison", says="planted")
    look = GO_LINK_TIME_SHELL.format(shell="test ! -e $GOCACHE/oorl-poison || touch /box/found", says="clean")
    assert stdio(sandbox, "go", plant, "planted\n").verdict is Verdict.ACCEPTED  # the shell did run
    result = stdio(sandbox, "go", look, "clean\n")
    assert result.verdict is Verdict.ACCEPTED, (result.detail, result.tests[0].stdout if result.tests else "")


def test_the_compile_cache_keys_on_flags_and_harness_mode(sandbox):
    code = "print('x')\n"
    plain = sandbox.judge(JudgeRequest(language="python", code=code, harness=False))
    harness = sandbox.judge(JudgeRequest(language="python", code=code))
    assert plain.accepted and harness.accepted
    assert plain.compile.cached is False and harness.compile.cached is False  # two entries
    assert harness.tests[0].stdout == "x\n"  # the sentinel is not part of the program's output


TH_PLANT = """{{-# LANGUAGE TemplateHaskell #-}}
import Language.Haskell.TH (runIO, stringE)
import {module}
main :: IO ()
main = putStrLn $(runIO ({plant} "/box/compile.json") >> stringE "ok")
"""


def test_a_fifo_planted_at_compile_time_is_refused_without_hanging(sandbox):
    code = TH_PLANT.format(module="System.Posix.Files (createNamedPipe)", plant="flip createNamedPipe 0o644")
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(stdio, sandbox, "haskell", code, "ok\n").result(timeout=120)
    assert result.verdict is Verdict.COMPILE_ERROR, result.detail
    assert "FIFO" in result.compile.output
    assert list((sandbox.cache.root / "staging").iterdir()) == []


def test_a_directory_planted_at_compile_time_fails_nothing_else(sandbox):
    code = TH_PLANT.format(module="System.Directory (createDirectory)", plant="createDirectory")
    planted, other = sandbox.judge_many(
        [
            JudgeRequest(language="haskell", code=code, tests=[StdioTest(expected="ok\n")]),
            JudgeRequest(language="python", code="print(1)", tests=[StdioTest(expected="1\n")]),
        ]
    )
    assert planted.verdict is Verdict.ACCEPTED, (planted.detail, planted.compile)
    assert other.verdict is Verdict.ACCEPTED
    assert list((sandbox.cache.root / "staging").iterdir()) == []


# --- harness verdicts ---------------------------------------------------------------------------

# (language, wrong solution that exits 0 early once a test fails, the right one, harness tests)
FORGERIES = {
    "python": (
        "import os, sys\nsys.excepthook = lambda *a: os._exit(0)\ndef add(a, b):\n    return a - b\n",
        "def add(a, b):\n    return a + b\n",
        "assert add(2, 3) == 5\n",
    ),
    "c": (
        "#include <signal.h>\n#include <unistd.h>\n#include <fcntl.h>\n"
        "static void leave(int s) { (void)s; _exit(0); }\n"
        "__attribute__((constructor)) static void hide(void) {\n"
        '    signal(SIGABRT, leave); dup2(open("/dev/null", O_WRONLY), 2);\n}\n'
        "int add(int a, int b) { return a - b; }\n",
        "int add(int a, int b) { return a + b; }\n",
        "#include <assert.h>\nint main(void) { assert(add(2, 3) == 5); return 0; }\n",
    ),
    "java": (
        "class Solution {\n    static {\n"
        "        Thread.setDefaultUncaughtExceptionHandler((t, e) -> Runtime.getRuntime().halt(0));\n    }\n"
        "    static int add(int a, int b) { return a - b; }\n}\n",
        "class Solution {\n    static int add(int a, int b) { return a + b; }\n}\n",
        "public class Main {\n    public static void main(String[] args) {\n"
        "        if (Solution.add(2, 3) != 5) throw new AssertionError();\n    }\n}\n",
    ),
    "javascript": (
        "process.on('uncaughtException', () => process.exit(0));\nfunction add(a, b) { return a - b; }\n",
        "function add(a, b) { return a + b; }\n",
        "const assert = require('assert');\nassert.deepEqual(add(2, 3), 5);\n",
    ),
    "bash": (
        "exit() { builtin exit 0; }\nadd() { echo $(( $1 - $2 )); }\n",
        "add() { echo $(( $1 + $2 )); }\n",
        "[[ $(add 2 3) = 5 ]] || exit 1\n",
    ),
    "go": (
        'package main\nimport ("os"; "testing")\nfunc init() { os.Exit(0) }\nfunc add(a, b int) int { return a - b }\n',
        'package main\nimport "testing"\nfunc add(a, b int) int { return a + b }\n',
        'func TestAdd(t *testing.T) {\n\tif add(2, 3) != 5 {\n\t\tt.Fatal("wrong")\n\t}\n}\n',
    ),
}


@pytest.mark.parametrize("language", sorted(FORGERIES))
def test_exiting_early_does_not_pass_a_harness(sandbox, language):
    wrong, right, tests = FORGERIES[language]
    forged, honest = sandbox.judge_many(
        [
            JudgeRequest(language=language, code=wrong + tests),
            JudgeRequest(language=language, code=right + tests),
        ]
    )
    assert forged.verdict is Verdict.WRONG_ANSWER, (forged.verdict, forged.detail, forged.compile)
    assert honest.verdict is Verdict.ACCEPTED, (honest.verdict, honest.detail, honest.compile, honest.tests)


DECOYS = {  # a second entry point in a comment or a raw string would keep the sentinel out
    "rust": "// fn main() {}\nfn main() {\n    std::process::exit(0);\n    assert_eq!(1 + 1, 3);\n}\n",
    "go": 'package main\nimport "os"\nvar s = `\nfunc main() {}\n`\nfunc main() {\n\tos.Exit(0)\n\tpanic(s)\n}\n',
}


@pytest.mark.parametrize("language", sorted(DECOYS))
def test_a_decoy_entry_point_does_not_switch_the_sentinel_off(sandbox, language):
    result = sandbox.judge(JudgeRequest(language=language, code=DECOYS[language]))
    assert result.verdict is Verdict.COMPILE_ERROR and "harness cannot be checked" in result.detail, (
        result.verdict,
        result.detail,
    )
    plain = sandbox.judge(JudgeRequest(language=language, code=DECOYS[language], harness=False))
    assert plain.verdict is Verdict.ACCEPTED, (plain.verdict, plain.detail)  # it does exit 0 early


def test_a_go_test_binary_must_report_its_tests_itself(sandbox):
    fake = (
        'package main\nimport ("fmt"; "os"; "testing")\n'
        'func init() { fmt.Println("=== RUN   TestAdd\\n--- PASS: TestAdd (0.00s)\\nPASS"); os.Exit(0) }\n'
        "func add(a, b int) int { return a - b }\n"
    )
    result = sandbox.judge(JudgeRequest(language="go", code=fake + FORGERIES["go"][2]))
    assert result.verdict is Verdict.WRONG_ANSWER, result.detail


def test_a_replaced_console_assert_still_reports(sandbox):
    code = (
        "console.assert = () => {};\nfunction add(a, b) { return a - b; }\nconsole.assert(add(2, 3) === 5);\n"
    )
    result = sandbox.judge(JudgeRequest(language="javascript", code=code))
    assert result.verdict is Verdict.WRONG_ANSWER, result.detail


def test_failure_markers_are_for_harness_stderr_only(sandbox):
    js = stdio(sandbox, "javascript", "console.log('Assertion failed')", "Assertion failed\n")
    java = (
        "public class Main {\n    public static void main(String[] args) {\n"
        '        try { throw new AssertionError("caught"); } catch (AssertionError e) { System.out.println(e); }\n'
        "    }\n}\n"
    )
    caught = stdio(sandbox, "java", java, "java.lang.AssertionError: caught\n")
    assert js.verdict is Verdict.ACCEPTED, js.detail
    assert caught.verdict is Verdict.ACCEPTED, caught.detail


# --- seccomp ------------------------------------------------------------------------------------

SYSCALL_PROBE = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/netlink.h>

static void probe(const char *name, long result) {
    printf("%s %s\n", name, result >= 0 ? "allowed" : errno == EPERM || errno == ENOSYS || errno == EAFNOSUPPORT ? "denied" : "failed");
}

int main(void) {
    probe("unshare_user", syscall(SYS_unshare, CLONE_NEWUSER));
    long child = syscall(SYS_clone, CLONE_NEWUSER | 17 /* SIGCHLD */, 0, 0, 0, 0);
    if (child == 0) _exit(0);
    probe("clone_user", child);
    probe("io_uring_setup", syscall(SYS_io_uring_setup, 8, (char[120]){0}));
    probe("perf_event_open", syscall(SYS_perf_event_open, (char[128]){0}, 0, -1, -1, 0));
    probe("bpf", syscall(SYS_bpf, 0, (char[128]){0}, 128));
    probe("userfaultfd", syscall(SYS_userfaultfd, 1 /* UFFD_USER_MODE_ONLY */));
    probe("add_key", syscall(SYS_add_key, "user", "k", "v", 1, -4 /* the user keyring */));
    probe("keyctl", syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -4, 0));
    probe("request_key", syscall(SYS_request_key, "user", "k", 0, 0));
    probe("socket_vsock", socket(40, SOCK_STREAM, 0));
    probe("socket_packet", socket(AF_PACKET, SOCK_RAW, 0));
    probe("socket_netfilter", socket(AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER));
    probe("socket_route", socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE));
    probe("x32_getpid", syscall(0x40000000 | 39));
    return 0;
}
"""


def test_seccomp_denies_the_kernel_surface_no_program_needs(sandbox):
    result = sandbox.run("c", SYSCALL_PROBE)
    assert result.verdict is Verdict.ACCEPTED, (result.detail, result.compile)
    seen = dict(line.split() for line in result.tests[0].stdout.splitlines())
    assert seen.pop("socket_route") == "allowed"  # getaddrinfo and friends need it
    assert seen == {name: "denied" for name in seen}, seen
    assert len(seen) == 13


# --- CPU time -----------------------------------------------------------------------------------

BURN = """import os, time
def burn(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
for _ in range({n}):
    if os.fork() == 0:
        burn({each})
        os._exit(0)
for _ in range({n}):
    os.wait()
print("done")
"""


def test_cpu_s_is_a_budget_for_all_of_a_run_s_processes(sandbox):
    limits = {"time_s": 20, "cpu_s": 1}
    over = stdio(sandbox, "python", BURN.format(n=3, each=0.6), "done\n", **limits)
    under = stdio(sandbox, "python", BURN.format(n=2, each=0.2), "done\n", **limits)
    assert over.verdict is Verdict.TIME_LIMIT, over.detail
    assert "CPU time" in over.detail
    assert under.verdict is Verdict.ACCEPTED, under.detail


def test_the_staging_area_is_left_empty(sandbox):
    assert not any(Path(sandbox.cache.root, "staging").iterdir())


# --- everyday TypeScript and C# -----------------------------------------------------------------

TYPESCRIPT = """import * as fs from 'fs';
import * as readline from 'readline';

const first: string = fs.existsSync('/box') ? 'box' : 'none';
const rl = readline.createInterface({ input: process.stdin });
const sums: number[] = [];
rl.on('line', (line: string) => sums.push(line.split(' ').map(Number).reduce((a, b) => a + b, 0)));
rl.on('close', () => process.stdout.write(first + ' ' + Buffer.from(sums.join(',')).toString() + '\\n'));
"""


def test_typescript_programs_may_use_node_s_apis(sandbox):
    request = JudgeRequest(
        language="typescript", code=TYPESCRIPT, tests=[StdioTest(stdin="1 2\n3 4\n", expected="box 3,7\n")]
    )
    result = sandbox.judge(request)
    assert result.verdict is Verdict.ACCEPTED, (result.detail, result.compile.output)


CSHARP_IMPLICIT_USINGS = """class Program {
    static void Main() {
        var numbers = Console.ReadLine().Split(' ').Select(int.Parse).ToList();
        Console.WriteLine(numbers.Sum());
    }
}
"""
CSHARP_TOP_LEVEL = """var numbers = Console.ReadLine().Split(' ').Select(int.Parse).ToList();
Console.WriteLine(Twice(numbers.Sum()));

static int Twice(int x) => 2 * x;
"""


@pytest.mark.parametrize(
    "code", [CSHARP_IMPLICIT_USINGS, CSHARP_TOP_LEVEL], ids=["implicit-usings", "top-level"]
)
def test_csharp_as_dotnet_accepts_it(sandbox, code):
    expected = "6\n" if code is CSHARP_IMPLICIT_USINGS else "12\n"
    result = sandbox.judge(
        JudgeRequest(language="csharp", code=code, tests=[StdioTest(stdin="1 2 3\n", expected=expected)])
    )
    assert result.verdict is Verdict.ACCEPTED, (result.detail, result.compile.output)
