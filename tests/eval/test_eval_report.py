import json

from oorl.eval.report import language_table, moving_average, write_report
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
