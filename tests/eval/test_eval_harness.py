"""The harness end to end in the sandbox: oracles, resume, the openai backend on MultiPL-E."""

import json
import os
import subprocess
import sys

import pytest
from openai_server import OpenAIServer

from oorl.eval.backends import ReferenceBackend, ShuffledBackend
from oorl.eval.benches import load_bench
from oorl.eval.run import RunSettings, read_samples, run_bench

pytestmark = pytest.mark.sandbox


@pytest.mark.parametrize(
    ("bench", "langs", "limit"),
    [("humaneval-x", None, 4), ("translate-humaneval-x", None, 2)],
)
def test_reference_passes_and_shuffled_fails(sandbox, tmp_path, bench, langs, limit):
    b = load_bench(bench, langs, limit=limit)
    good = run_bench(
        b, ReferenceBackend(b.items), sandbox, tmp_path / "ref", RunSettings("reference"), progress=False
    )
    bad = run_bench(
        b, ShuffledBackend(b.items), sandbox, tmp_path / "shuf", RunSettings("shuffled"), progress=False
    )
    keys = 5 if bench == "humaneval-x" else 20
    assert len(good["pass_at_k"]["1"]) == keys and len(bad["pass_at_k"]["1"]) == keys
    assert min(good["pass_at_k"]["1"].values()) >= 0.95, good["pass_at_k"]
    assert max(bad["pass_at_k"]["1"].values()) <= 0.05, bad["pass_at_k"]
    rows = read_samples(tmp_path / "shuf" / "samples.jsonl")
    assert len(rows) == len(b.items) and all(r["stderr"] for r in rows)  # failures say why
    assert {r["verdict"] for r in rows} <= {"compile_error", "runtime_error", "wrong_answer", "time_limit"}
    for name in ("summary.json", "report.md", "per_language.png"):
        assert (tmp_path / "ref" / name).stat().st_size > 0
    assert (tmp_path / "ref" / "matrix.png").exists() == (bench == "translate-humaneval-x")


def test_defects_are_reported_as_excluded(sandbox, tmp_path):
    b = load_bench("humaneval-x", ["javascript"], limit=113)  # HumanEval/112 is a known JS defect
    assert "HumanEval/112" not in {i.problem_id for i in b.items}
    summary = run_bench(
        b.__class__(b.name, b.items[-2:], b.excluded),
        ReferenceBackend(b.items),
        sandbox,
        tmp_path,
        RunSettings("r"),
        progress=False,
    )
    assert [e["problem_id"] for e in summary["excluded"]] == ["HumanEval/112"]
    assert "canonical solution" in summary["excluded"][0]["reason"]
    assert "Excluded data defects (1 items)" in (tmp_path / "report.md").read_text()


class Interrupted(Exception):
    pass


class Distinct(ReferenceBackend):
    """The reference answer, its samples made distinct programs by a comment naming the sample."""

    def generate(self, items, *, n, **kw):
        mark = {"python": "    # sample", "javascript": "  // sample"}
        return [[f"{mark[i.language]} {s}\n{i.reference}" for s in range(n)] for i in items]


class DiesAfter(Distinct):
    """`Distinct`, killed in its `calls + 1`-th generate call."""

    def __init__(self, items, calls):
        super().__init__(items)
        self.left = calls

    def generate(self, items, **kw):
        if self.left == 0:
            raise Interrupted
        self.left -= 1
        return super().generate(items, **kw)


def test_resume_judges_nothing_twice_and_writes_the_same_summary(counting, tmp_path):
    b = load_bench("humaneval-x", ["python", "javascript"], limit=3)  # 6 items
    settings = RunSettings("reference", n_samples=2, temperature=0.8, ks=(1, 2), batch_size=2)
    judge = counting()
    whole = run_bench(b, Distinct(b.items), judge, tmp_path / "whole", settings, progress=False)
    assert judge.calls == 12 and whole["pass_at_k"]["2"] == {"javascript": 1.0, "python": 1.0}

    first = counting()
    with pytest.raises(Interrupted):
        run_bench(b, DiesAfter(b.items, 1), first, tmp_path / "killed", settings, progress=False)
    done = read_samples(tmp_path / "killed" / "samples.jsonl")
    # killed in the second batch: what the first batch's judges finished is kept, the rest is not
    assert first.calls == len(done) and 0 < len(done) <= 4

    with pytest.raises(FileExistsError, match="--resume"):
        run_bench(b, Distinct(b.items), judge, tmp_path / "killed", settings, progress=False)
    second = counting()
    resumed = run_bench(
        b, Distinct(b.items), second, tmp_path / "killed", settings, resume=True, progress=False
    )
    assert second.calls == 12 - len(done)
    assert resumed == whole
    rows = read_samples(tmp_path / "killed" / "samples.jsonl")
    keys = [(r["problem_id"], r["language"], r["sample_index"]) for r in rows]
    assert len(keys) == len(set(keys)) == 12
    assert (tmp_path / "killed" / "summary.json").read_text() == (
        tmp_path / "whole" / "summary.json"
    ).read_text()

    third = counting()  # a finished run resumed: nothing to do
    run_bench(b, Distinct(b.items), third, tmp_path / "killed", settings, resume=True, progress=False)
    assert third.calls == 0


def test_identical_programs_are_judged_once(counting, tmp_path):
    b = load_bench("humaneval-x", ["python"], limit=2)
    settings = RunSettings("reference", n_samples=3, temperature=0.8, ks=(1, 3))
    judge = counting()
    summary = run_bench(b, ReferenceBackend(b.items), judge, tmp_path, settings, progress=False)
    assert judge.calls == 2 and len(read_samples(tmp_path / "samples.jsonl")) == 6
    assert summary["pass_at_k"]["3"] == {"python": 1.0}


# HumanEval_0 (has_close_elements) completions in MultiPL-E's completion style, each followed by
# text a model might go on with: it must be cut at the language's stop sequence to compile / run.
RIGHT = {
    "python": "    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for j, b in enumerate(numbers) if i != j)\n"
    "\ndef unrelated():\n    raise SystemExit(3)\nunrelated()\n",
    "cpp": "    for (size_t i = 0; i < numbers.size(); i++)\n        for (size_t j = 0; j < numbers.size(); j++)\n"
    "            if (i != j && std::abs(numbers[i] - numbers[j]) < threshold) return true;\n    return false;\n"
    "}\nint main() { return 1; }\n",
    "java": "        for (int i = 0; i < numbers.size(); i++)\n            for (int j = 0; j < numbers.size(); j++)\n"
    "                if (i != j && Math.abs(numbers.get(i) - numbers.get(j)) < threshold) return true;\n"
    "        return false;\n    }\n    public static void main(String[] a) { System.exit(1); }\n}\n",
    "javascript": "  for (let i = 0; i < numbers.length; i++)\n    for (let j = 0; j < numbers.length; j++)\n"
    "      if (i != j && Math.abs(numbers[i] - numbers[j]) < threshold) return true;\n  return false;\n}\n"
    "\nconsole.log('extra'); process.exit(1);\n",
    "bash": '    echo "$1" | awk -v t="$2" \'{for(i=1;i<=NF;i++)for(j=1;j<=NF;j++)if(i!=j){d=$i-$j;if(d<0)d=-d;'
    'if(d<t){print "true";exit}} print "false"}\'\n}\nexit 1\n',
}
WRONG = {
    "python": "    return None\n",
    "cpp": "    return false;\n",
    "java": "        return false;\n",
    "javascript": "  return 42;\n}\n",
    "bash": "  echo maybe\n",
}


def test_multipl_e_through_the_cli_with_a_served_model(tmp_path):
    langs = ["python", "cpp", "java", "javascript", "bash"]
    prompts = {}
    for item in load_bench("multipl-e", langs, limit=5).items:
        prompts[item.prompt] = (item.language, item.problem_id)

    def answer(body):
        assert "stop" in body and body["temperature"] == 0.0
        language, problem_id = prompts[body["prompt"]]
        return [RIGHT[language] if problem_id == "HumanEval/0" else WRONG[language]] * body["n"]

    out = tmp_path / "run"
    with OpenAIServer(answer) as server:
        proc = subprocess.run(
            [sys.executable, "-m", "oorl.cli", "eval", "--model", "served", "--bench", "multipl-e"]
            + [
                "--langs",
                ",".join(langs),
                "--backend",
                "openai",
                "--base-url",
                server.base_url,
                "--limit",
                "5",
            ]
            + ["--out", str(out), "--no-progress", "--workers", "2"],
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(server.requests) == 25 and all(r["path"] == "/v1/completions" for r in server.requests)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["bench"] == "multipl-e" and summary["model"] == "served" and summary["problems"] == 5
    assert summary["pass_at_k"] == {"1": dict.fromkeys(sorted(langs), 0.2)}, summary
    assert summary["overall"] == {"1": pytest.approx(0.2)}
    rows = read_samples(out / "samples.jsonl")
    assert {r["bench"] for r in rows} == {"multipl-e"} and len(rows) == 25
    first = {r["language"]: r for r in rows if r["problem_id"] == "HumanEval/0"}
    assert all(first[lang]["verdict"] == "accepted" for lang in langs), first
    assert "unrelated" not in first["python"]["completion"] and "main" not in first["cpp"]["completion"]
    assert "pass@1" in (out / "report.md").read_text()
