"""The memory-light GEPO path gives the same gradient as plain autograd over the whole batch."""

import copy
import math

import pytest
import torch
from transformers import Qwen2Config, Qwen2ForCausalLM

from oorl.algos import gepo_backward_memory_light, gepo_loss, sequence_logprobs, token_logprobs

VOCAB = 101


def _tiny_qwen2(seed: int) -> Qwen2ForCausalLM:
    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=VOCAB,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
        tie_word_embeddings=False,
        # Eager attention takes its softmax in float32 even in a float64 model (transformers' eager
        # path passes dtype=torch.float32), whose rounding on some CPUs depends on the padded row
        # length; SDPA keeps the whole forward pass in float64.
        attn_implementation="sdpa",
    )
    return Qwen2ForCausalLM(config).double().eval()  # eval: no dropout, both passes must agree


def _make_sequences(num: int, seed: int) -> list[tuple[torch.Tensor, int]]:
    """(token ids, prompt length) pairs: prompts of 2-4 tokens, completions of 3-11 tokens."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(num):
        prompt_len = int(torch.randint(2, 5, (1,), generator=g))
        completion_len = int(torch.randint(3, 12, (1,), generator=g))
        out.append((torch.randint(0, VOCAB, (prompt_len + completion_len,), generator=g), prompt_len))
    return out


def _seq_logps(model: Qwen2ForCausalLM, sequences, indices: torch.Tensor) -> torch.Tensor:
    """Summed completion log-probs of the chosen sequences, one forward pass each. (b,)

    Each sequence runs alone, unpadded, so its log-prob is the same computation whichever
    micro-batch it falls in: the comparison below is exact up to float64 summation order on any CPU.
    Padded batches would add batch-layout-dependent rounding of the model's own kernels, which says
    nothing about the GEPO gradient.
    """
    return torch.cat([_one_seq_logp(model, *sequences[i]) for i in indices.tolist()])


def _one_seq_logp(model: Qwen2ForCausalLM, ids: torch.Tensor, prompt_len: int) -> torch.Tensor:
    logits = model(input_ids=ids[None]).logits  # (1, T, V)
    mask = torch.zeros(1, len(ids) - 1, dtype=torch.bool)
    mask[:, prompt_len - 1 :] = True  # predictions of the completion tokens
    token_logps = token_logprobs(logits[:, :-1], ids[None, 1:], mask)  # (1, T - 1)
    return sequence_logprobs(token_logps, mask)


@pytest.fixture(scope="module")
def gepo_batch():
    """Two interleaved groups: id 3 with 3 winners and 2 losers, id 9 with 1 winner and 2 losers."""
    policy = _tiny_qwen2(seed=0)
    reference = _tiny_qwen2(seed=1)  # separately initialised, frozen
    sequences = _make_sequences(8, seed=2)
    group_index = torch.tensor([3, 9, 3, 3, 9, 3, 9, 3])
    winner_mask = torch.tensor([True, True, True, True, False, False, False, False])
    with torch.no_grad():
        ref_logps = _seq_logps(reference, sequences, torch.arange(8))
    return policy, sequences, ref_logps, winner_mask, group_index


OPTIONS = [
    {"beta": 0.1},
    {"beta": 0.5, "lam": 2.0, "variance": "sample", "beta_in_variance": False},
]


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("micro_batch_size", [1, 3])
def test_memory_light_gradient_equals_autograd_on_tiny_qwen2(gepo_batch, micro_batch_size, options):
    policy, sequences, ref_logps, winners, groups = gepo_batch

    policy.zero_grad()
    plain_loss, plain_metrics = gepo_loss(
        _seq_logps(policy, sequences, torch.arange(8)), ref_logps, winners, groups, **options
    )
    plain_loss.backward()
    plain = torch.cat([p.grad.flatten() for p in policy.parameters()])

    policy.zero_grad()
    light_loss, light_metrics = gepo_backward_memory_light(
        lambda idx: _seq_logps(policy, sequences, idx),
        ref_logps,
        winners,
        groups,
        micro_batch_size=micro_batch_size,
        **options,
    )
    light = torch.cat([p.grad.flatten() for p in policy.parameters()])

    assert plain.abs().max() > 1e-6  # the test compares non-trivial gradients
    assert (light - plain).abs().max() <= 1e-5 * plain.abs().max()
    torch.testing.assert_close(light, plain, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(light_loss, plain_loss.detach())
    assert not light_loss.requires_grad
    for name, value in plain_metrics.items():
        torch.testing.assert_close(light_metrics[name], value)


def test_loss_scale_scales_the_gradient_and_grads_accumulate(gepo_batch):
    """loss_scale = 0.25 called twice accumulates 0.5 x the unscaled gradient in .grad."""
    policy, sequences, ref_logps, winners, groups = gepo_batch
    model = copy.deepcopy(policy)

    def run(scale: float) -> None:
        fn = lambda idx: _seq_logps(model, sequences, idx)  # noqa: E731
        gepo_backward_memory_light(fn, ref_logps, winners, groups, micro_batch_size=4, loss_scale=scale)

    model.zero_grad()
    run(1.0)
    full = torch.cat([p.grad.flatten() for p in model.parameters()])
    model.zero_grad()
    run(0.25)
    run(0.25)
    torch.testing.assert_close(torch.cat([p.grad.flatten() for p in model.parameters()]), 0.5 * full)


def test_memory_light_by_hand():
    """A one-parameter "model" logp_i = theta * x_i with theta = 1, x = (1, 3, 0), reference 0: the
    one group of test_preference (winners r = 1, 3; loser r = 0), beta = 0.5, so g = (-0.317235,
    0.182765, 0.134471) and dL/dtheta = sum_i g_i x_i = -0.317235 + 3 * 0.182765 + 0 = 0.231059."""
    theta = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    x = torch.tensor([1.0, 3.0, 0.0], dtype=torch.float64)
    loss, _ = gepo_backward_memory_light(
        lambda idx: theta * x[idx],
        torch.zeros(3, dtype=torch.float64),
        torch.tensor([True, True, False]),
        torch.zeros(3, dtype=torch.long),
        micro_batch_size=2,
        beta=0.5,
    )
    s = 1 / (1 + math.e)  # sigmoid(-1)
    assert theta.grad.item() == pytest.approx(-0.25 * s - 0.25 + 3 * (-0.25 * s + 0.25))
    assert theta.grad.item() == pytest.approx(0.231059, abs=1e-6)
    assert loss.item() == pytest.approx(math.log1p(math.exp(-1)) + 0.25)


def test_invalid_groups_fail_before_any_forward_pass():
    calls = []

    def fn(idx):
        calls.append(idx)
        return torch.zeros(len(idx))

    with pytest.raises(ValueError, match="winner"):
        gepo_backward_memory_light(
            fn, torch.zeros(3), torch.tensor([True, True, False]), torch.tensor([0, 1, 1]), micro_batch_size=2
        )
    assert calls == []
