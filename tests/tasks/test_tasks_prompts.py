"""The translation prompt and its rendering with and without a chat template."""

from __future__ import annotations

import pytest

from oorl.tasks.answers import extract_code
from oorl.tasks.prompts import render_prompt, translation_prompt
from oorl.tasks.schema import Harness, Problem, Provenance
from oorl.tasks.translation import TranslationTask

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def _tokenizer(chat_template: str | None):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator(
        ["def f(x): return x", "int main() { return 0; }"],
        trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "<|end|>"]),
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", eos_token="<|end|>", chat_template=chat_template
    )


@pytest.fixture
def stdio_task() -> TranslationTask:
    p = Problem(
        id="p1",
        provenance=Provenance(dataset="t"),
        solutions={"python": "print(int(input()) * 2)\n"},
        tests=[{"stdin": "2\n", "expected": "4\n"}],
    )
    return TranslationTask(problem=p, source_lang="py", target_lang="c++")


@pytest.fixture
def harness_task() -> TranslationTask:
    p = Problem(
        id="p2",
        provenance=Provenance(dataset="t"),
        solutions={"python": "def f(x):\n    return x + 1\n"},
        harness={
            "java": Harness(
                prompt="class Solution {\n    public int f(int x) {\n",
                tests="",
                declaration="class Solution {\n    public int f(int x) {",
            )
        },
    )
    return TranslationTask(problem=p, source_lang="python", target_lang="java")


def test_prompt_has_source_code_languages_and_format(stdio_task):
    text = translation_prompt(stdio_task)
    assert "Translate the following Python code into C++." in text
    assert "```python\nprint(int(input()) * 2)\n```" in text
    assert "exactly one fenced code block (```cpp" in text
    assert "standard input" in text and "declaration" not in text


def test_prompt_shows_target_declaration_when_there_is_one(harness_task):
    text = translation_prompt(harness_task)
    assert "```java\nclass Solution {\n    public int f(int x) {\n```" in text
    assert "including the declaration" in text


def test_chat_template_is_applied_with_generation_prompt(stdio_task):
    tok = _tokenizer(CHAT_TEMPLATE)
    text = render_prompt(stdio_task, tok, system="You translate code.")
    assert text.startswith("<|system|>\nYou translate code.<|end|>\n<|user|>\nTranslate the following Python")
    assert text.endswith("<|end|>\n<|assistant|>\n")


def test_plain_text_without_chat_template(stdio_task):
    tok = _tokenizer(None)
    assert tok.chat_template is None
    text = render_prompt(stdio_task, tok)
    assert text == translation_prompt(stdio_task) + "\n" and "<|" not in text


def test_the_asked_format_passes_the_format_check(stdio_task):
    # an answer in exactly the requested form is accepted by the reward's extraction
    answer = '```cpp\n#include <iostream>\nint main(){int x;std::cin>>x;std::cout<<2*x<<"\\n";}\n```'
    assert "```cpp" in translation_prompt(stdio_task)
    assert extract_code(answer, stdio_task.target_lang).format_ok
