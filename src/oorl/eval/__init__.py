"""Evaluation: benches (MultiPL-E, HumanEval-X, a HumanEval-X translation matrix, synthetic), backends,
the resumable sandbox-judged runner, the unbiased pass@k estimator, reports and run comparison."""

from oorl.eval.passk import estimate_pass_at_k, pass_at_k_mean

__all__ = ["estimate_pass_at_k", "pass_at_k_mean"]
