"""Run a bench: generate, judge in the sandbox pool while generation goes on, append every judged
sample to `DIR/samples.jsonl` at once, and summarise from that file.

`samples.jsonl` is the run's only state. `--resume` reads it, and neither generates nor judges a
sample it holds again; a line cut off by a kill is dropped and its sample redone. The summary is a
pure function of the file, so a resumed run writes the same `summary.json` as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from oorl.eval.backends import Generator
from oorl.eval.benches import Bench, EvalItem
from oorl.eval.report import row_key
from oorl.sandbox.types import JudgeRequest, JudgeResult, Verdict

FORMAT = "format"  # the verdict of an answer that breaks the format (chat style): never run
SAMPLES = "samples.jsonl"
RUN_FILE = "run.json"


class Judge(Protocol):
    """What the harness needs of the sandbox: `oorl.sandbox.Sandbox` is one."""

    workers: int

    def judge(self, request: JudgeRequest) -> JudgeResult: ...


@dataclass(frozen=True)
class RunSettings:
    model: str
    n_samples: int = 1
    temperature: float = 0.0
    ks: tuple[int, ...] = (1,)
    max_new_tokens: int = 512
    batch_size: int = 16
    seed: int = 0
    retries: int = 2  # more tries of a request that ends in sandbox_error (as the training reward)

    def __post_init__(self):
        if self.n_samples < 1:
            raise ValueError("--n-samples must be at least 1")
        if self.temperature == 0 and self.n_samples > 1:
            raise ValueError("--temperature 0 is greedy: every sample would be the same; use --n-samples 1")
        if not self.ks or min(self.ks) < 1:
            raise ValueError(f"--k needs positive integers, got {list(self.ks)}")


def stderr_excerpt(result: JudgeResult, limit: int = 600) -> str:
    """A short excerpt of why a program failed: compiler output, else the failing run's stderr."""
    if result.compile is not None and not result.compile.ok:
        text = result.compile.output
    else:
        failed = [t for t in result.tests if t.verdict is not Verdict.ACCEPTED]
        text = (failed[0].stderr or failed[0].detail or failed[0].stdout) if failed else ""
        text = text or result.detail
    return text[-limit:]


def read_samples(path: Path) -> list[dict[str, Any]]:
    """The rows of a samples file; a last line cut off mid-write (a killed run) is ignored."""
    if not path.exists():
        return []
    rows = []
    lines = path.read_text(encoding="utf-8").split("\n")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as e:
            if number >= len(lines) - 1:  # the unterminated last line of a killed run
                break
            raise ValueError(f"{path}:{number}: not a JSON object ({e.msg})") from None
    return rows


def _sample_key(row: dict[str, Any]) -> tuple[str, str, int]:
    return row["problem_id"], row_key(row), row["sample_index"]


def _check_run_file(out: Path, meta: dict[str, Any], resume: bool) -> None:
    path = out / RUN_FILE
    samples = out / SAMPLES
    if not resume:
        if samples.exists() and samples.stat().st_size:
            raise FileExistsError(
                f"{samples} already holds samples: pass --resume to continue it, or another --out"
            )
    elif path.exists():
        before = json.loads(path.read_text(encoding="utf-8"))
        changed = {k: (before.get(k), v) for k, v in meta.items() if before.get(k) != v}
        if changed:
            what = ", ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in changed.items())
            raise ValueError(f"--resume with different settings than {path} ({what})")
    path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


class _Writer:
    """Appends one JSON line per judged sample and flushes it, from any thread."""

    def __init__(self, path: Path):
        # a killed run may have left half a line: drop it (its sample is judged again)
        if path.exists() and (data := path.read_bytes()) and not data.endswith(b"\n"):
            path.write_bytes(data[: data.rfind(b"\n") + 1])
        self._f = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, row: dict[str, Any]) -> None:
        with self._lock:
            self._f.write(json.dumps(row) + "\n")
            self._f.flush()

    def close(self) -> None:
        self._f.close()


def judge_request(judge: Judge, request: JudgeRequest, retries: int) -> tuple[str, str, float]:
    """(verdict, stderr excerpt, seconds) of one program; a sandbox error is judged again."""
    t0 = time.perf_counter()
    result = judge.judge(request)
    for _ in range(retries):
        if result.verdict is not Verdict.SANDBOX_ERROR:
            break
        result = judge.judge(request)
    return result.verdict.value, stderr_excerpt(result), time.perf_counter() - t0


def fingerprint(request: JudgeRequest) -> str:
    """Identical programs with identical tests and limits get one verdict: they are judged once."""
    return hashlib.sha256(request.model_dump_json().encode()).hexdigest()


def run_bench(
    bench: Bench,
    generator: Generator,
    judge: Judge,
    out: str | Path,
    settings: RunSettings,
    *,
    resume: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Evaluate every item of `bench`; returns (and writes) the summary."""
    from oorl.eval.report import summarize, write_eval_report

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "bench": bench.name,
        "model": settings.model,
        "n_samples": settings.n_samples,
        "temperature": settings.temperature,
        "seed": settings.seed,
        "max_new_tokens": settings.max_new_tokens,
    }
    _check_run_file(out, meta, resume)
    samples_path = out / SAMPLES
    done = {_sample_key(r) for r in read_samples(samples_path)} if resume else set()
    todo = [
        (item, [s for s in range(settings.n_samples) if (item.problem_id, item.key, s) not in done])
        for item in bench.items
    ]
    todo = [(item, missing) for item, missing in todo if missing]
    total = sum(len(m) for _, m in todo)

    writer = _Writer(samples_path)
    pool = ThreadPoolExecutor(max(1, judge.workers), thread_name_prefix="oorl-eval-judge")
    futures: list[Future] = []
    # program fingerprint -> its judging: a program sampled again (greedy duplicates, an oracle's
    # answer in every direction into one target) is judged once, as MultiPL-E's evaluator does
    judging: dict[str, Future] = {}
    with _Progress(progress, total) as bar:

        def record(item: EvalItem, index: int, completion: str, verdict: tuple[str, str, float]) -> None:
            writer.write(
                {
                    "bench": bench.name,
                    "problem_id": item.problem_id,
                    ("direction" if item.source else "language"): item.key,
                    "sample_index": index,
                    "completion": completion,
                    "verdict": verdict[0],
                    "stderr": verdict[1],
                    "time_s": round(verdict[2], 4),
                }
            )
            bar.judged()

        def submit(item: EvalItem, index: int, completion: str) -> None:
            request = item.request(completion)
            if isinstance(request, str):  # breaks the answer format: nothing to run
                record(item, index, completion, (FORMAT, request, 0.0))
                return
            key = fingerprint(request)
            if key not in judging:
                judging[key] = pool.submit(judge_request, judge, request, settings.retries)
            future = judging[key]
            futures.append(future)

            def done(f: Future) -> None:
                if not f.cancelled() and f.exception() is None:
                    record(item, index, completion, f.result())

            future.add_done_callback(done)

        try:
            # a batch's samples go to the judges as soon as it is generated, so the sandbox works
            # while the next batch generates
            for start in range(0, len(todo), settings.batch_size):
                chunk = todo[start : start + settings.batch_size]
                # items with some samples already done only need the missing ones
                need = max(len(m) for _, m in chunk)
                texts = generator.generate(
                    [item for item, _ in chunk],
                    n=need,
                    temperature=settings.temperature,
                    max_new_tokens=settings.max_new_tokens,
                    seed=settings.seed,
                )
                for (item, missing), completions in zip(chunk, texts, strict=True):
                    for index, completion in zip(missing, completions, strict=False):
                        submit(item, index, item.cut(completion))
                bar.generated(sum(len(m) for _, m in chunk))
            for f in futures:
                f.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            writer.close()

    rows = read_samples(samples_path)
    summary = summarize(bench, rows, settings.ks, model=settings.model, n_samples=settings.n_samples)
    write_eval_report(out, summary, rows)
    return summary


class _Progress:
    """Two bars (generated, judged) with rates and an ETA; a no-op when disabled."""

    def __init__(self, enabled: bool, total: int):
        self.enabled, self.total = enabled, total

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("{task.description:>9}"),
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
            )
            self.bar.__enter__()
            self.gen = self.bar.add_task("generated", total=self.total)
            self.jud = self.bar.add_task("judged", total=self.total)
        return self

    def generated(self, n: int) -> None:
        if self.enabled:
            self.bar.advance(self.gen, n)

    def judged(self) -> None:
        if self.enabled:
            self.bar.advance(self.jud, 1)

    def __exit__(self, *exc) -> None:
        if self.enabled:
            self.bar.__exit__(*exc)


def evaluate(
    bench: Bench,
    generator: Generator,
    out: str | Path,
    settings: RunSettings,
    *,
    workers: int | None = None,
    resume: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """`run_bench` with a sandbox pool of its own."""
    from oorl.sandbox import open_sandbox

    with open_sandbox(workers=workers) as sandbox:
        return run_bench(bench, generator, sandbox, out, settings, resume=resume, progress=progress)


__all__: Sequence[str] = ["RunSettings", "evaluate", "read_samples", "run_bench"]
