"""The translation prompt, as the paper describes it, and its rendering for a tokenizer.

OORL (Wu et al., NeurIPS 2025, section 3, "On-policy part"): the prompt holds the source program and
its language, the target language, the target function declaration where there is one, and the
required answer format, exactly one fenced code block. The reward's format check
(`oorl.tasks.answers.extract_code`) enforces that format, so the two must agree.
"""

from __future__ import annotations

from typing import Any

from oorl.langs import get_language
from oorl.tasks.translation import TranslationTask

DISPLAY_NAMES = {
    "python": "Python",
    "cpp": "C++",
    "c": "C",
    "java": "Java",
    "php": "PHP",
    "bash": "Bash",
    "javascript": "JavaScript",
    "typescript": "TypeScript",
    "go": "Go",
    "csharp": "C#",
    "scala": "Scala",
    "haskell": "Haskell",
    "rust": "Rust",
}


def display_name(language: str) -> str:
    name = get_language(language).name
    return DISPLAY_NAMES.get(name, name)


def fence_tag(language: str) -> str:
    """The tag the prompt asks for: the language's first fence tag (`cpp`, `python`, ...)."""
    return get_language(language).fence_tags[0]


def translation_prompt(task: TranslationTask) -> str:
    """The user message for a translation task (plain text, no chat formatting)."""
    src, tgt = display_name(task.source_lang), display_name(task.target_lang)
    stag, ttag = fence_tag(task.source_lang), fence_tag(task.target_lang)
    parts = [
        f"Translate the following {src} code into {tgt}.",
        f"{src} code:\n```{stag}\n{task.source_code.rstrip()}\n```",
    ]
    decl = task.target_declaration
    if decl:
        parts.append(f"The {tgt} translation must implement this declaration:\n```{ttag}\n{decl}\n```")
        parts.append(f"Write the complete {tgt} code, including the declaration and any imports it needs.")
    else:
        parts.append(
            f"Write a complete {tgt} program that reads the same standard input and prints "
            "the same standard output."
        )
    parts.append(
        f"Answer with exactly one fenced code block (```{ttag} ... ```) that contains the "
        "whole translation, and no other code block."
    )
    return "\n\n".join(parts)


CHAT_KWARGS_ATTR = "oorl_chat_template_kwargs"
"""Attribute of a loaded tokenizer holding `model.chat_template_kwargs` (set by
`oorl.train.model.load_tokenizer`), so that every rendering of a model's prompts (training, SFT,
GEPO, evaluation) passes the same arguments to its template."""


def render_chat(tokenizer: Any, messages: list[dict[str, str]], **chat_template_kwargs: Any) -> str:
    """`apply_chat_template(messages, add_generation_prompt=True)` with the tokenizer's configured
    template arguments (e.g. Qwen3's `enable_thinking=False`), overridden by `chat_template_kwargs`.

    Qwen3's hybrid-thinking template opens the answer with an empty `<think>\n\n</think>\n\n`
    block only when `enable_thinking` is explicitly false; without it the model thinks first, and a
    fence inside the thinking counts as an extra code block (reward 0).
    """
    kwargs = {**getattr(tokenizer, CHAT_KWARGS_ATTR, {}), **chat_template_kwargs}
    return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False, **kwargs)


def render_prompt(task: TranslationTask, tokenizer: Any = None, *, system: str | None = None) -> str:
    """The text fed to the model: the tokenizer's chat template (with the generation prompt) when it
    has one, else the plain message (with the system text, if any, above it)."""
    user = translation_prompt(task)
    if tokenizer is not None and getattr(tokenizer, "chat_template", None):
        messages = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": user}
        ]
        return render_chat(tokenizer, messages)
    return f"{system}\n\n{user}\n" if system else f"{user}\n"
