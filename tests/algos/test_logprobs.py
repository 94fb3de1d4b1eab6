import math

import pytest
import torch

from oorl.algos import sequence_logprobs, token_logprobs


def test_token_logprobs_by_hand():
    """Logits (0, 0, ln 2) give probabilities (1/4, 1/4, 1/2).

    Position 0 picks token 2: ln(1/2) = -0.6931; position 1 picks token 0: ln(1/4) = -1.3863;
    position 2 is masked and its label is -100 (ignored): exactly 0.
    """
    logits = torch.tensor([0.0, 0.0, math.log(2)]).expand(1, 3, 3)  # (B=1, T=3, V=3)
    labels = torch.tensor([[2, 0, -100]])
    mask = torch.tensor([[True, True, False]])
    out = token_logprobs(logits, labels, mask)
    torch.testing.assert_close(out, torch.tensor([[math.log(0.5), math.log(0.25), 0.0]]))


def test_token_logprobs_matches_log_softmax_and_is_chunk_invariant():
    """Any chunking gives log_softmax(x).gather(y), including a non-contiguous logits[:, :-1]."""
    torch.manual_seed(0)
    logits = torch.randn(3, 8, 50)
    labels = torch.randint(0, 50, (3, 7))
    expected = logits[:, :-1].log_softmax(-1).gather(-1, labels[..., None]).squeeze(-1)
    for chunk_rows in (1, 3, 1024):
        out = token_logprobs(logits[:, :-1], labels, chunk_rows=chunk_rows)
        torch.testing.assert_close(out, expected)


def test_token_logprobs_gradient_matches_log_softmax():
    """d logp / d x = onehot - softmax, masked positions get 0 gradient, for every chunking."""
    torch.manual_seed(1)
    logits = torch.randn(2, 5, 11, requires_grad=True)
    labels = torch.randint(0, 11, (2, 5))
    mask = torch.rand(2, 5) > 0.3
    weights = torch.randn(2, 5)
    ref = (logits.log_softmax(-1).gather(-1, labels[..., None]).squeeze(-1) * mask * weights).sum()
    (expected,) = torch.autograd.grad(ref, logits)
    for chunk_rows in (2, 1024):
        (got,) = torch.autograd.grad(
            (token_logprobs(logits, labels, mask, chunk_rows=chunk_rows) * weights).sum(), logits
        )
        torch.testing.assert_close(got, expected)


def test_token_logprobs_gradcheck_float64():
    torch.manual_seed(2)
    logits = torch.randn(2, 4, 6, dtype=torch.float64, requires_grad=True)
    labels = torch.randint(0, 6, (2, 4))
    mask = torch.tensor([[1, 1, 1, 0], [0, 1, 1, 1]])
    assert torch.autograd.gradcheck(lambda x: token_logprobs(x, labels, mask, chunk_rows=3), (logits,))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_token_logprobs_half_precision_computes_in_float32(dtype):
    """Half-precision logits are upcast chunk by chunk: the result is float32 and equals the float32
    computation on the same (rounded) values; the gradient comes back in the logits' dtype."""
    torch.manual_seed(3)
    logits = (torch.randn(2, 6, 40) * 5).to(dtype).requires_grad_()
    labels = torch.randint(0, 40, (2, 6))
    out = token_logprobs(logits, labels, chunk_rows=4)
    assert out.dtype == torch.float32
    expected = logits.detach().float().log_softmax(-1).gather(-1, labels[..., None]).squeeze(-1)
    torch.testing.assert_close(out, expected)
    out.sum().backward()
    assert logits.grad is not None and logits.grad.dtype == dtype


def test_sequence_logprobs_by_hand():
    """Row 0: -1 - 2 = -3 over 2 tokens (mean -1.5); row 1: -4 over 1 token (the masked -9 is ignored)."""
    token_logps = torch.tensor([[-1.0, -2.0, 0.0], [-4.0, -9.0, 0.0]])
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    torch.testing.assert_close(sequence_logprobs(token_logps, mask), torch.tensor([-3.0, -4.0]))
    torch.testing.assert_close(
        sequence_logprobs(token_logps, mask, length_normalize=True), torch.tensor([-1.5, -4.0])
    )
