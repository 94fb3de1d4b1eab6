"""The policy and its reference: any HF causal LM by hub id or path, or a tiny one built here.

`build_tiny_model` is the embedded default: a Qwen2-architecture model (the family of the paper's
Qwen3-8B, at ~1 M parameters) and a byte-level BPE tokenizer trained with `tokenizers` on the
bundled code, with a ChatML chat template, saved with `save_pretrained` so that every later step
loads it through the same `from_pretrained` path as a real checkpoint.

The reference policy (the KL anchor of the on-policy loss and pi_ref of GEPO/DPO) is a frozen copy
of the starting weights, or, with LoRA, the same module with its adapters disabled
(`with model.disable_adapter():`), which costs no memory.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import torch

from oorl.config import ModelSettings, TinyModelSettings
from oorl.tasks.prompts import CHAT_KWARGS_ATTR

BOS, EOS, PAD = "<|im_start|>", "<|im_end|>", "<|endoftext|>"

# ChatML, as Qwen2/Qwen3 use it; `add_generation_prompt` opens the assistant turn.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def train_tokenizer(texts: Iterable[str], vocab_size: int):
    """A byte-level BPE tokenizer (GPT-2 / Qwen style) trained on `texts`, as a transformers tokenizer.

    Byte level means any text encodes (no unknown token), so model outputs in a language absent from
    the training texts still round-trip.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    # Split at line ends only (not at spaces and punctuation, as GPT-2's regex does), so merges
    # may span a whole line: the boilerplate of generated code (input parsing, helpers) then costs
    # a few tokens, which is what keeps a CPU-sized model's sequences short.
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split("\n", behavior="merged_with_previous"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD, BOS, EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS, pad_token=PAD, bos_token=None)
    fast.chat_template = CHAT_TEMPLATE
    fast.padding_side = "left"
    return fast


def tiny_config(settings: TinyModelSettings, *, vocab_size: int, **token_ids: int):
    """The Qwen2 architecture of the tiny model (`token_ids`: bos/eos/pad ids, once a tokenizer exists)."""
    from transformers import Qwen2Config

    return Qwen2Config(
        vocab_size=vocab_size,
        hidden_size=settings.hidden_size,
        intermediate_size=settings.intermediate_size,
        num_hidden_layers=settings.num_layers,
        num_attention_heads=settings.num_heads,
        num_key_value_heads=settings.num_kv_heads,
        max_position_embeddings=settings.max_position,
        tie_word_embeddings=True,
        **token_ids,
    )


def build_tiny_model(
    out: str | os.PathLike, texts: Iterable[str], settings: TinyModelSettings, *, seed: int = 0
):
    """Train the tokenizer on `texts`, build a Qwen2 model of `settings`, save both to `out`.

    Returns:
        (model, tokenizer), also loadable with `load_model(ModelSettings(name_or_path=out))`.
    """
    from transformers import GenerationConfig, Qwen2ForCausalLM

    tokenizer = train_tokenizer(texts, settings.vocab_size)
    config = tiny_config(
        settings,
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.convert_tokens_to_ids(BOS),
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=config.bos_token_id,
    )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return model, tokenizer


def load_tokenizer(
    name_or_path: str, *, trust_remote_code: bool = False, chat_template_kwargs: dict | None = None
):
    """The tokenizer, left-padded (generation appends on the right), with a pad token.

    A tokenizer saved as a plain `tokenizers` backend (the tiny model's) is loaded as exactly that:
    AutoTokenizer would pick the class registered for the model type (Qwen2Tokenizer), which
    replaces the saved pre-tokenizer with Qwen's regex and so changes every encoding.
    """
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    config = Path(name_or_path) / "tokenizer_config.json"
    plain = config.exists() and json.loads(config.read_text()).get("tokenizer_class") in (
        "TokenizersBackend",
        "PreTrainedTokenizerFast",
    )
    if plain:
        tokenizer = PreTrainedTokenizerFast.from_pretrained(name_or_path)
    else:
        tokenizer = AutoTokenizer.from_pretrained(name_or_path, trust_remote_code=trust_remote_code)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    setattr(tokenizer, CHAT_KWARGS_ATTR, dict(chat_template_kwargs or {}))
    return tokenizer


def load_model(settings: ModelSettings, name_or_path: str | None = None):
    """`AutoModelForCausalLM.from_pretrained` in the master dtype (`settings.master_dtype`, the
    dtype of the trained parameters), with gradient checkpointing and LoRA as set, on the CPU; the
    engine (oorl.train.engine) places it.

    `name_or_path` overrides `settings.name_or_path` (used when 'tiny' was built into a folder).
    Returns (model, tokenizer); the model is in train mode.
    """
    from transformers import AutoModelForCausalLM

    path = name_or_path or settings.name_or_path
    tokenizer = load_tokenizer(
        path, trust_remote_code=settings.trust_remote_code, chat_template_kwargs=settings.chat_template_kwargs
    )
    model = AutoModelForCausalLM.from_pretrained(
        path, dtype=DTYPES[settings.master_dtype], trust_remote_code=settings.trust_remote_code
    )
    if settings.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.config.use_cache = False
    if settings.lora.enabled:
        from peft import LoraConfig, get_peft_model

        lora = settings.lora
        model = get_peft_model(
            model,
            LoraConfig(
                r=lora.r,
                lora_alpha=lora.alpha,
                lora_dropout=lora.dropout,
                target_modules=list(lora.target_modules),
                task_type="CAUSAL_LM",
            ),
        )
    model.train()
    return model, tokenizer


class Reference:
    """pi_ref: a frozen copy of the starting policy (`frozen`, made by the engine: in the compute
    dtype, sharded like the policy), or with LoRA the policy itself with its adapters disabled."""

    def __init__(self, *, frozen: torch.nn.Module | None = None, policy: torch.nn.Module | None = None):
        if (frozen is None) == (policy is None):
            raise ValueError("a Reference is either a frozen module or a LoRA policy")
        self.frozen, self.policy = frozen, policy

    @contextlib.contextmanager
    def module(self) -> Iterator[torch.nn.Module]:
        """The reference network for a `torch.no_grad()` forward."""
        if self.frozen is not None:
            yield self.frozen
            return
        was_training = self.policy.training
        self.policy.eval()
        try:
            with self.policy.disable_adapter():
                yield self.policy
        finally:
            self.policy.train(was_training)


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
