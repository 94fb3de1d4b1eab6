"""The benchmarks, as lists of `EvalItem`s: what the model is asked, and how its answer is judged.

- `multipl-e` (evaluation only: MultiPL-E's license forbids training on it): completion style. The
  model continues the prompt; the completion is cut at the language's stop sequences and
  `prompt + completion + "\\n" + tests` is judged as a harness test (MultiPL-E's
  `evaluation/src/main.py`), with MultiPL-E's time limit.
- `humaneval-x`: completion style, assembled as CodeGeeX's harness does (data/humaneval-x/README.md).
- `translate-humaneval-x`: CrossPLEval-style function translation between python, cpp, java,
  javascript and go (20 directions). The prompt is the paper's translation prompt (the same
  `translation_prompt` training uses) with the source declaration + canonical solution and the
  target declaration; the answer is judged exactly as the training reward judges it.
- `synthetic`: the verified 13-language corpus's held-out problems, every direction.

Items that HumanEval-X's known defects make unjudgeable are returned apart, with the reason.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from oorl.eval.defects import generation_defects, translation_defects
from oorl.langs import canonical_language
from oorl.sandbox.types import JudgeRequest, Limits
from oorl.tasks.answers import assemble_solution, extract_code
from oorl.tasks.prompts import fence_tag, translation_prompt
from oorl.tasks.schema import Problem
from oorl.tasks.translation import TranslationTask, make_task

BENCHES = ("multipl-e", "humaneval-x", "translate-humaneval-x", "synthetic")
# The paper's MultiPL-E table (Wu et al. 2025, section 4): Python, C++, Java, PHP, TypeScript, C#, Bash, JS.
MULTIPL_E_DEFAULT = ("python", "cpp", "java", "php", "typescript", "csharp", "bash", "javascript")
HUMANEVAL_X_DEFAULT = ("python", "cpp", "java", "javascript", "go")
TRANSLATION_LANGS = ("python", "cpp", "java", "javascript", "go")

# MultiPL-E's `stop_tokens` per language (its dataset builder's translators; data README).
MULTIPL_E_STOPS: dict[str, tuple[str, ...]] = {
    "python": ("\ndef", "\n#", "\nif", "\nclass"),
    "cpp": ("\n}",),
    "rust": ("\n}",),
    "bash": ("\n}",),
    "java": ("\n    }\n",),
    "csharp": ("\n    }\n",),
    "scala": ("\n    }\n",),
    "javascript": ("\nfunction ", "\n/*", "\n//", "\nconsole.log"),
    "typescript": ("\nfunction ", "\n/*", "\n//", "\nclass"),
    "php": ("\nfunction", "\n?>", "\n//", "\n#"),
    "go": ("\nfunc", "struct", "\n// "),
    "haskell": ("\n\n", "\n{-", "\n-- |", "\n--", "\ntype", "\ndata", "\nnewtype"),
}
# MultiPL-E's per-language run limits (evaluation/src/eval_<lang>.py): `safe_subprocess.run`'s 15 s
# default, except Go's `go test` (30 s, build included). Compilation keeps the sandbox's own, more
# generous limit (MultiPL-E: 15 s for javac, 45 s for scalac).
MULTIPL_E_TIME_S = {"go": 30.0}


def multipl_e_limits(language: str) -> Limits:
    return Limits(time_s=MULTIPL_E_TIME_S.get(language, 15.0))


# CodeGeeX puts this block above every Python program it judges (benchmark/utils.py IMPORT_HELPER),
# so a HumanEval-X completion may use these modules without importing them.
CODEGEEX_PYTHON_IMPORTS = (
    "import math\nimport re\nimport sys\nimport copy\nimport datetime\nimport itertools\nimport collections\n"
    "import heapq\nimport statistics\nimport functools\nimport hashlib\nimport numpy\nimport numpy as np\n"
    "import string\nfrom typing import *\nfrom collections import *\n"
)


@dataclass(frozen=True)
class EvalItem:
    """One question of a bench: a prompt, what counts as the answer, and how it is judged."""

    bench: str
    problem: Problem = field(repr=False)
    language: str  # the language the model writes
    prompt: str  # completion style: the prefix to continue; chat style: the user message
    chat: bool  # True: a chat message answered with one fenced block (translation benches)
    reference: str  # what the `reference` backend answers: the dataset's canonical solution
    source: str | None = None  # translation benches: the language the model reads
    stop: tuple[str, ...] = ()
    limits: Limits | None = None
    task: TranslationTask | None = field(default=None, repr=False)  # chat style: for chat templates

    @property
    def problem_id(self) -> str:
        return self.problem.id

    @property
    def key(self) -> str:
        """What results are grouped by: the language, or the direction "SRC->TGT"."""
        return f"{self.source}->{self.language}" if self.source else self.language

    @property
    def uid(self) -> str:
        return f"{self.problem_id}|{self.key}"

    def cut(self, completion: str) -> str:
        """The completion as judged: cut at the first stop sequence (completion style)."""
        if self.chat:
            return completion
        if self.problem.provenance.dataset == "humaneval-x":
            return cut_humaneval_x(self.language, self.problem.harness[self.language].prompt, completion)
        ends = [i for s in self.stop if (i := completion.find(s)) >= 0]
        return completion[: min(ends)] if ends else completion

    def request(self, completion: str) -> JudgeRequest | str:
        """The sandbox request that judges `completion` (already cut), or why it breaks the answer
        format (chat style: not exactly one fenced block in the target language)."""
        if self.chat:  # the training reward's path (oorl.rewards.score_completions)
            ex = extract_code(completion, self.language)
            if not ex.format_ok:
                return ex.reason
            code = assemble_solution(self.problem, self.language, ex.code)
        else:
            code = self.full_program(completion)
        return self.problem.request(self.language, code, self.limits)

    def full_program(self, completion: str) -> str:
        """Completion style: the solution = the prompt + the completion (before the harness tests)."""
        h = self.problem.harness[self.language]
        if self.problem.provenance.dataset == "humaneval-x":
            from oorl.tasks.humaneval_x import go_fix_imports

            if self.language == "go":  # CodeGeeX imports what the generated part uses
                return go_fix_imports(h.prompt + completion, h.setup, scan=completion)
            if self.language == "python":
                return CODEGEEX_PYTHON_IMPORTS + "\n" + h.prompt + completion
        return h.prompt + completion


@dataclass
class Bench:
    """The items of a bench, and the ones left out as known data defects (with the reason)."""

    name: str
    items: list[EvalItem]
    excluded: list[dict[str, str]] = field(default_factory=list)


# --- HumanEval-X completion cleanup (CodeGeeX) -------------------------------------------------


def cut_humaneval_x(language: str, prompt: str, completion: str) -> str:
    """Python: cut at the first non-empty line that starts without indentation (CodeGeeX's rule).
    Brace languages: cut just after the brace that closes what the prompt left open."""
    if language == "python":
        lines = completion.split("\n")
        for i, line in enumerate(lines):
            if line.strip() and line[0] not in " \t":
                return "\n".join(lines[:i]) + "\n"
        return completion
    depth = prompt.count("{") - prompt.count("}")
    if depth <= 0:
        return completion
    for i, ch in enumerate(completion):
        depth += (ch == "{") - (ch == "}")
        if depth == 0:
            return completion[: i + 1] + "\n"
    return completion


# --- loaders -----------------------------------------------------------------------------------


def bundled_multipl_e() -> Path:
    """The bundled MultiPL-E HumanEval data (regenerated at upstream 38ee732; evaluation only)."""
    return Path(str(resources.files("oorl") / "data" / "multipl-e"))


def _languages(langs: list[str] | None, default: tuple[str, ...], known: list[str], bench: str) -> list[str]:
    out = [canonical_language(x) for x in langs] if langs else list(default)
    unknown = [x for x in out if x not in known]
    if unknown:
        raise ValueError(f"{bench} has no {', '.join(unknown)}; its languages: {', '.join(known)}")
    return out


def multipl_e(langs: list[str] | None, data: str | None = None) -> Bench:
    from oorl.tasks.multipl_e import SHORT_NAMES, load_multipl_e

    languages = _languages(langs, MULTIPL_E_DEFAULT, list(SHORT_NAMES), "multipl-e")
    problems = load_multipl_e(languages, path=data or str(bundled_multipl_e()))
    items = [
        EvalItem(
            bench="multipl-e",
            problem=p,
            language=lang,
            prompt=p.harness[lang].prompt,
            chat=False,
            reference="",  # MultiPL-E ships no solutions
            stop=MULTIPL_E_STOPS[lang],
            limits=multipl_e_limits(lang),
        )
        for lang in languages
        for p in problems
        if lang in p.harness
    ]
    return Bench("multipl-e", items)


def _humaneval_x_rows(language: str, data: str | None) -> dict[str, dict]:
    """problem id -> raw HumanEval-X record (for `canonical_solution` and `declaration`)."""
    from oorl.tasks.humaneval_x import LANGUAGES, bundled_path

    path = Path(data) / f"humaneval_{LANGUAGES[language]}.jsonl.gz" if data else bundled_path(language)
    with gzip.open(path, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return {f"HumanEval/{r['task_id'].split('/')[-1]}": r for r in rows}


def humaneval_x(langs: list[str] | None, data: str | None = None) -> Bench:
    from oorl.tasks.humaneval_x import LANGUAGES, load_humaneval_x

    languages = _languages(langs, HUMANEVAL_X_DEFAULT, list(LANGUAGES), "humaneval-x")
    problems = load_humaneval_x(languages, path=data)
    bench = Bench("humaneval-x", [])
    for lang in languages:
        rows, defects = _humaneval_x_rows(lang, data), generation_defects(lang)
        for p in problems:
            if p.id in defects:
                bench.excluded.append({"problem_id": p.id, "key": lang, "reason": f"{lang}: {defects[p.id]}"})
                continue
            bench.items.append(
                EvalItem(
                    bench="humaneval-x",
                    problem=p,
                    language=lang,
                    prompt=p.harness[lang].prompt,
                    chat=False,
                    reference=rows[p.id]["canonical_solution"],
                    # the server may stop early where the cleanup would cut anyway (a new top-level
                    # Python statement); brace languages are cut after the closing brace instead
                    stop=MULTIPL_E_STOPS["python"] if lang == "python" else (),
                )
            )
    return bench


def _fenced(language: str, code: str) -> str:
    return f"```{fence_tag(language)}\n{code.rstrip()}\n```\n"


def translation_items(bench: str, tasks: list[TranslationTask]) -> list[EvalItem]:
    """Chat-style items from translation tasks: the paper's prompt; the target's reference solution."""
    return [
        EvalItem(
            bench=bench,
            problem=t.problem,
            language=t.target_lang,
            source=t.source_lang,
            prompt=translation_prompt(t),
            chat=True,
            reference=_fenced(t.target_lang, t.reference or ""),
            task=t,
        )
        for t in tasks
    ]


def parse_directions(langs: list[str] | None, default: tuple[str, ...]) -> list[tuple[str, str]]:
    """Directions from `--langs`: languages (every direction among them) or SRC->TGT / SRC:TGT items."""
    items = list(langs) if langs else list(default)
    if all("->" not in x and ":" not in x for x in items):
        names = [canonical_language(x) for x in items]
        return [(s, t) for s in names for t in names if s != t]
    pairs = []
    for x in items:
        s, _, t = x.replace("->", ":").partition(":")
        if not t:
            raise ValueError(f"bad direction {x!r}: give SRC->TGT (e.g. python->cpp) or plain languages")
        pairs.append((canonical_language(s), canonical_language(t)))
    return pairs


def translate_humaneval_x(langs: list[str] | None, data: str | None = None) -> Bench:
    from oorl.tasks.humaneval_x import load_humaneval_x

    pairs = parse_directions(langs, TRANSLATION_LANGS)
    bad = sorted({x for p in pairs for x in p} - set(TRANSLATION_LANGS))
    if bad:
        raise ValueError(
            f"translate-humaneval-x has no {', '.join(bad)}; its languages: {', '.join(TRANSLATION_LANGS)}"
        )
    languages = sorted({x for p in pairs for x in p})
    problems = load_humaneval_x(languages, path=data)
    rows = {lang: _humaneval_x_rows(lang, data) for lang in languages}
    defects = {lang: translation_defects(lang) for lang in languages}
    bench = Bench("translate-humaneval-x", [])
    for src, tgt in pairs:
        tasks = []
        for p in problems:
            why = [f"{x}: {defects[x][p.id]}" for x in (src, tgt) if p.id in defects[x]]
            if why:
                bench.excluded.append({"problem_id": p.id, "key": f"{src}->{tgt}", "reason": "; ".join(why)})
                continue
            # the source as CrossPLEval shows it: its declaration + canonical solution (no docstring)
            row = rows[src][p.id]
            shown = p.model_copy(
                update={"solutions": {**p.solutions, src: row["declaration"] + row["canonical_solution"]}}
            )
            task = make_task(shown, src, tgt)
            if task is not None:
                tasks.append(task)
        bench.items += translation_items(bench.name, tasks)
    return bench


def synthetic(langs: list[str] | None, data: str | None = None) -> Bench:
    """The held-out split (the trainer's own, `oorl.train.data`) of the verified synthetic corpus."""
    from oorl.config import DataSettings
    from oorl.train.data import load_problems, split_problems

    settings = DataSettings()
    problems = load_problems(data)
    _, heldout = split_problems(problems, settings.heldout_fraction, settings.split_seed)
    every = sorted({lang for p in heldout for lang in p.solutions})
    pairs = parse_directions(langs, tuple(every))
    tasks = [t for p in heldout for s, tgt in pairs if (t := make_task(p, s, tgt)) is not None]
    return Bench("synthetic", translation_items("synthetic", tasks))


def _index(problem_id: str) -> int:
    return int(problem_id.rsplit("/", 1)[-1])


def load_bench(
    name: str, langs: list[str] | None = None, *, data: str | None = None, limit: int | None = None
) -> Bench:
    """The bench called `name`; `limit` keeps the first `limit` problems of each language/direction."""
    loaders = {
        "multipl-e": multipl_e,
        "humaneval-x": humaneval_x,
        "translate-humaneval-x": translate_humaneval_x,
        "synthetic": synthetic,
    }
    if name not in loaders:
        raise ValueError(f"unknown bench {name!r}; known: {', '.join(BENCHES)}")
    bench = loaders[name](langs, data)
    if limit is not None:  # the first `limit` problems of each key, excluded ones included
        ids: dict[str, set[str]] = {}
        for key, pid in [(i.key, i.problem_id) for i in bench.items] + [
            (e["key"], e["problem_id"]) for e in bench.excluded
        ]:
            ids.setdefault(key, set()).add(pid)
        first = {k: set(sorted(v, key=_index)[:limit]) for k, v in ids.items()}
        bench.items = [i for i in bench.items if i.problem_id in first[i.key]]
        bench.excluded = [e for e in bench.excluded if e["problem_id"] in first[e["key"]]]
    return bench
