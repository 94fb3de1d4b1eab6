"""Memory-light GEPO padded to a fixed number of micro-batches, as collective engines need."""

import torch

from oorl.algos import gepo_backward_memory_light


def test_padding_micro_batches_adds_calls_not_gradient():
    """5 sequences in micro-batches of 2 are 3 chunks; padded to 5, the two extra chunks are empty
    calls whose backward contributes nothing: the same gradient, and every call is counted."""
    torch.manual_seed(0)
    features = torch.randn(5, 3)
    ref = torch.randn(5)
    winner = torch.tensor([True, True, False, True, False])
    group = torch.tensor([0, 0, 0, 1, 1])
    grads, calls = [], []
    for pad in (0, 5):
        w = torch.zeros(3, requires_grad=True)
        sizes = []

        def seq_logps(idx, w=w, sizes=sizes):
            sizes.append(idx.numel())
            return features[idx] @ w  # an empty idx still gives a tensor tied to w

        backwards = []
        gepo_backward_memory_light(
            seq_logps,
            ref,
            winner,
            group,
            micro_batch_size=2,
            min_micro_batches=pad,
            backward=lambda loss, b=backwards: b.append(1) or loss.backward(),
        )
        grads.append(w.grad.clone())
        calls.append((sorted(sizes), len(backwards)))
    torch.testing.assert_close(grads[1], grads[0])
    assert grads[0].abs().sum() > 0
    assert calls[0] == ([1, 2, 2, 2, 2], 3)  # 2 early chunks twice, the last once; 3 backward calls
    # padded: chunks (2, 2, 1, 0, 0); the empty last one runs once, the empty early one twice
    assert calls[1] == ([0, 0, 0, 1, 1, 2, 2, 2, 2], 5)  # 5 backward calls on every rank
