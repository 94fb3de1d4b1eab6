import json
import math

import pytest

from oorl.eval.benches import Bench
from oorl.eval.compare import compare_runs, deltas_markdown, paired_bootstrap
from oorl.eval.report import language_table, moving_average, summarize, write_eval_report, write_report
from oorl.eval.translation import TranslationEval


def _eval(p, per):
    return TranslationEval(pass_at_1=p, per_language=per, format_rate=1.0, n_tasks=4, n_samples=1)


def test_moving_average_is_trailing():
    assert moving_average([1.0, 3.0, 5.0, 7.0], 2) == [1.0, 2.0, 4.0, 6.0]


def test_language_table_has_a_row_per_language_and_the_total():
    table = language_table({"SFT": _eval(0.25, {"php": 0.5, "bash": 0.0}), "OORL": _eval(0.5, {"php": 1.0})})
    lines = table.splitlines()
    assert lines[0] == "| target language | SFT | OORL |"
    assert "| bash | 0.000 | - |" in lines
    assert "| php | 0.500 | 1.000 |" in lines
    assert lines[-1] == "| **all** | **0.250** | **0.500** |"


def test_write_report_writes_every_artifact(tmp_path):
    metrics = tmp_path / "run" / "metrics.jsonl"
    metrics.parent.mkdir()
    metrics.write_text(
        "".join(json.dumps({"step": i, "reward": i / 4, "kl": 0.0}) + "\n" for i in range(1, 5))
    )
    summary = {"heldout_pass_at_1": {"sft": 0.25, "oorl": 0.5}, "steps": 4, "wall_s": 1.0}
    report = write_report(
        tmp_path / "rep",
        summary=summary,
        evals={"SFT": _eval(0.25, {"php": 0.25})},
        metrics_path=metrics,
        notes="tiny",
    )
    out = report.parent
    assert json.loads((out / "summary.json").read_text()) == summary
    assert (out / "metrics.jsonl").read_text() == metrics.read_text()
    assert (out / "reward_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = report.read_text()
    assert "| php | 0.250 |" in text and "reward_curve.png" in text


# --- bench summaries, reports and run comparison --------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n"


class _Item:
    def __init__(self, pid, key):
        self.problem_id, self.key = pid, key


def _rows(passes: dict[tuple[str, str], list[bool]], field="direction"):
    return [
        {
            "bench": "b",
            "problem_id": pid,
            field: key,
            "sample_index": s,
            "completion": "",
            "stderr": "",
            "time_s": 0.0,
            "verdict": "accepted" if ok else ("format" if s % 2 else "wrong_answer"),
        }
        for (pid, key), oks in passes.items()
        for s, ok in enumerate(oks)
    ]


def _bench(passes, excluded=()):
    return Bench("b", [_Item(p, k) for p, k in passes], list(excluded))


def test_summary_has_the_documented_shape_and_unbiased_pass_at_k():
    passes = {
        ("P/0", "python->cpp"): [True, False, False, False],
        ("P/1", "python->cpp"): [True, True, False, False],
        ("P/0", "cpp->python"): [False] * 4,
        ("P/1", "cpp->python"): [True] * 4,
    }
    excluded = [{"problem_id": "P/9", "key": "cpp->python", "reason": "broken"}]
    s = summarize(_bench(passes, excluded), _rows(passes), [1, 2, 10], model="m", n_samples=4)
    assert list(s)[:6] == ["bench", "model", "n_samples", "problems", "pass_at_k", "overall"]
    assert s["problems"] == 2 and set(s["pass_at_k"]) == {"1", "2"}  # pass@10 needs 10 samples
    assert s["pass_at_k"]["1"] == {"cpp->python": 0.5, "python->cpp": pytest.approx((0.25 + 0.5) / 2)}
    # pass@2 = 1 - C(n-c, 2) / C(4, 2): c=1 -> 1 - 3/6, c=2 -> 1 - 1/6
    assert s["pass_at_k"]["2"]["python->cpp"] == pytest.approx((0.5 + 5 / 6) / 2)
    assert s["overall"]["1"] == pytest.approx((0.5 + 0.375) / 2)
    assert s["excluded"] == excluded and s["sandbox_errors"] == 0


def test_summary_counts_each_sample_once_and_ignores_other_items():
    passes = {("P/0", "go"): [True]}
    rows = _rows(passes, "language") * 2 + _rows({("P/1", "go"): [False]}, "language")
    s = summarize(_bench(passes), rows, [1], model="m", n_samples=1)
    assert s["pass_at_k"]["1"] == {"go": 1.0} and s["problems"] == 1


def test_eval_report_files(tmp_path):
    passes = {(f"P/{i}", d): [i % 2 == 0] for i in range(4) for d in ("python->go", "go->python", "go->java")}
    rows = _rows(passes)
    s = summarize(
        _bench(passes, [{"problem_id": "P/7", "key": "go->java", "reason": "no helper"}]),
        rows,
        [1],
        model="m",
        n_samples=1,
    )
    write_eval_report(tmp_path, s, rows)
    assert json.loads((tmp_path / "summary.json").read_text()) == s
    assert (tmp_path / "matrix.png").read_bytes()[:8] == PNG and (tmp_path / "per_language.png").read_bytes()[
        :8
    ] == PNG
    md = (tmp_path / "report.md").read_text()
    assert "| go->java | 4 | 0.500 |" in md
    assert "| source \\ target | go | java | python |" in md and "| go | - | 0.500 | 0.500 |" in md
    assert (
        "| language | accepted | format | compile_error | runtime_error | wrong_answer | time_limit | samples |"
        in md
    )
    assert "| java | 2 | 0 | 0 | 0 | 2 | 0 | 4 |" in md
    assert "| P/7 | go->java | no helper |" in md


def _run_dir(tmp_path, name, passes):
    d = tmp_path / name
    d.mkdir()
    (d / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in _rows(passes, "language")))
    (d / "run.json").write_text(json.dumps({"bench": "humaneval-x"}))
    return d


def test_compare_marks_only_deltas_whose_interval_excludes_zero(tmp_path):
    n = 60
    a = {
        **{(f"P/{i}", "go"): [i < 20] for i in range(n)},
        **{(f"P/{i}", "cpp"): [i % 2 == 0] for i in range(n)},
    }
    b = {
        **{(f"P/{i}", "go"): [i < 50] for i in range(n)},
        **{(f"P/{i}", "cpp"): [i % 2 == 0] for i in range(n)},
    }
    deltas = {
        d.key: d for d in compare_runs(_run_dir(tmp_path, "a", a), _run_dir(tmp_path, "b", b), reps=2000)
    }
    assert deltas["go"].delta == pytest.approx(0.5) and deltas["go"].significant and deltas["go"].low > 0
    assert deltas["cpp"].delta == 0 and not deltas["cpp"].significant  # identical answers: [0, 0]
    assert deltas["overall"].delta == pytest.approx(0.25) and deltas["overall"].problems == n
    md = deltas_markdown(list(deltas.values()), "a", "b")
    assert "| go | 60 | 0.333 | 0.833 | +0.500 * |" in md and "| cpp | 60 | 0.500 | 0.500 | +0.000 |" in md


def test_paired_bootstrap_interval_contains_the_delta_and_narrows_with_pairing():
    rng = __import__("numpy").random.default_rng(1)
    a = rng.random(200) < 0.5
    b = a.copy()
    b[:10] = True  # B fixes a few of A's failures and changes nothing else
    low, high = paired_bootstrap(a.astype(float), b.astype(float), reps=4000)
    d = b.mean() - a.mean()
    assert low <= d <= high and high - low < 0.1 and not math.isnan(low)


def test_compare_refuses_runs_of_different_benches(tmp_path):
    a = _run_dir(tmp_path, "a", {("P/0", "go"): [True]})
    b = _run_dir(tmp_path, "b", {("P/0", "go"): [True]})
    (b / "run.json").write_text(json.dumps({"bench": "multipl-e"}))
    with pytest.raises(ValueError, match="different benches"):
        compare_runs(a, b)


def test_a_line_cut_by_a_kill_is_dropped_and_a_broken_line_names_file_and_line(tmp_path):
    from oorl.eval.run import _Writer, read_samples

    path = tmp_path / "samples.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": 3, "comp')
    assert read_samples(path) == [{"a": 1}, {"a": 2}]
    w = _Writer(path)
    w.write({"a": 4})
    w.close()
    assert read_samples(path) == [{"a": 1}, {"a": 2}, {"a": 4}]
    path.write_text('{"a": 1}\nnot json\n{"a": 2}\n')
    with pytest.raises(ValueError, match=r"samples.jsonl:2: not a JSON object"):
        read_samples(path)
