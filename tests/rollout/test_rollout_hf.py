import pytest
import torch

from oorl.rollout import completion_mask, fence_closed, make_backend
from oorl.rollout.hf import FenceStop
from oorl.train.sequences import completion_logprobs


def test_fence_closed_needs_an_opening_line_then_a_close():
    assert fence_closed("sure:\n```js\nconsole.log(1)\n```")
    assert not fence_closed("```js\nconsole.log(1)\n")  # still open
    assert not fence_closed("use ``` fences")  # no opening line
    assert fence_closed("```\nx\n```\ntrailing")


def test_completion_mask_keeps_tokens_through_the_first_end():
    eos, pad = 9, 0
    ids = torch.tensor([[5, 6, eos, 7, pad], [5, pad, pad, pad, pad], [5, 6, 7, 8, 4]])
    expected = torch.tensor([[1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    assert torch.equal(completion_mask(ids, eos_id=eos, pad_id=pad), expected)


def test_fence_stop_fires_when_the_block_closes(tiny):
    _, tok = tiny
    prompt = tok("```python\nx\n```\n", add_special_tokens=False)["input_ids"]  # a fence inside the prompt
    stop = FenceStop(tok, len(prompt))
    partial = tok("```javascript\nconsole.log(1);\n", add_special_tokens=False)["input_ids"]
    full = tok("```javascript\nconsole.log(1);\n```", add_special_tokens=False)["input_ids"]
    assert not bool(stop(torch.tensor([prompt + partial]), None)[0])
    assert bool(stop(torch.tensor([prompt + full]), None)[0])


def test_generate_groups_samples_by_prompt_and_masks_consistently(tiny):
    model, tok = tiny
    prompts = [
        tok.apply_chat_template([{"role": "user", "content": c}], add_generation_prompt=True, tokenize=False)
        for c in ("short", "a much longer prompt than the first one")
    ]
    torch.manual_seed(0)
    batch = make_backend("hf", model, tok).generate(prompts, n=3, max_new_tokens=12)
    assert batch.completion_ids.shape[0] == 6 and len(batch.texts) == 6
    # rows 0-2 share prompt 0, rows 3-5 prompt 1 (left-padded: real tokens end at the right)
    assert torch.equal(batch.prompt_ids[0], batch.prompt_ids[2])
    assert not torch.equal(batch.prompt_ids[2], batch.prompt_ids[3])
    assert batch.prompt_mask[:, -1].all() and not batch.prompt_mask[0, 0]
    for i in range(6):
        kept = batch.completion_ids[i][batch.completion_mask[i]]
        assert batch.texts[i] == tok.decode(kept, skip_special_tokens=True)


def test_greedy_is_the_same_alone_and_in_a_left_padded_batch(tiny):
    model, tok = tiny
    backend = make_backend("hf", model, tok)
    short = tok.apply_chat_template(
        [{"role": "user", "content": "x"}], add_generation_prompt=True, tokenize=False
    )
    long = tok.apply_chat_template(
        [{"role": "user", "content": "print(x * 3 + 1) " * 3}], add_generation_prompt=True, tokenize=False
    )
    alone = backend.generate([short], greedy=True, max_new_tokens=10)
    batched = backend.generate([long, short], greedy=True, max_new_tokens=10)
    assert alone.texts[0] == batched.texts[1]


@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_training_logprobs_match_sampling_logprobs(tiny, temperature):
    """The trainer's forward (explicit positions under left padding) reproduces the distribution
    generate sampled from, temperature included."""
    model, tok = tiny
    prompts = [
        tok.apply_chat_template([{"role": "user", "content": c}], add_generation_prompt=True, tokenize=False)
        for c in ("a", "a longer one")
    ]
    enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    torch.manual_seed(1)
    out = model.generate(
        **enc,
        do_sample=True,
        temperature=temperature,
        max_new_tokens=6,
        min_new_tokens=6,
        output_logits=True,
        return_dict_in_generate=True,
        top_k=None,
        pad_token_id=tok.pad_token_id,
    )
    new = out.sequences[:, enc["input_ids"].shape[1] :]  # (2, 6)
    # raw logits (the scores would also carry min_new_tokens' masking of EOS), tempered as sampled
    scores = (torch.stack(out.logits, 1) / temperature).log_softmax(-1)  # (2, 6, V)
    expected = scores.gather(-1, new[..., None]).squeeze(-1)
    from oorl.rollout import RolloutBatch

    batch = RolloutBatch(
        enc["input_ids"], enc["attention_mask"].bool(), new, torch.ones_like(new, dtype=torch.bool), ["", ""]
    )
    with torch.no_grad():
        got = completion_logprobs(model, batch, temperature=temperature)
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)


def test_generation_batch_size_bounds_each_generate_call(tiny, monkeypatch):
    """2 prompts x 3 samples with generation_batch_size=4: two generate calls (4 + 2 sequences),
    the same greedy completions as one call, in the same prompt-major order."""
    model, tok = tiny
    prompts = [
        tok.apply_chat_template([{"role": "user", "content": c}], add_generation_prompt=True, tokenize=False)
        for c in ("a", "print(x * 3 + 1)")
    ]
    calls = []
    original = model.generate

    def spy(**kwargs):
        calls.append(kwargs["input_ids"].shape[0])
        return original(**kwargs)

    monkeypatch.setattr(model, "generate", spy)
    whole = make_backend("hf", model, tok).generate(prompts, n=1, greedy=True, max_new_tokens=8)
    assert calls == [2]
    calls.clear()
    chunked = make_backend("hf", model, tok, generation_batch_size=1).generate(
        prompts, n=1, greedy=True, max_new_tokens=8
    )
    assert calls == [1, 1] and chunked.texts == whole.texts
    calls.clear()
    sampled = make_backend("hf", model, tok, generation_batch_size=4).generate(prompts, n=3, max_new_tokens=8)
    assert calls == [4, 2] and sampled.completion_ids.shape[0] == 6
    assert torch.equal(sampled.prompt_ids[3], sampled.prompt_ids[5])
    for i in range(6):
        kept = sampled.completion_ids[i][sampled.completion_mask[i]]
        assert sampled.texts[i] == tok.decode(kept, skip_special_tokens=True)
