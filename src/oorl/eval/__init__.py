"""Evaluation: the unbiased pass@k estimator, held-out translation pass@k, reports."""

from oorl.eval.passk import estimate_pass_at_k, pass_at_k_mean

__all__ = ["estimate_pass_at_k", "pass_at_k_mean"]
