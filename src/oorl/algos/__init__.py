"""The algorithms of OORL as pure tensor functions: no I/O, no config objects, no optimizer.

- :mod:`~oorl.algos.logprobs`: token and sequence log-probs.
- :mod:`~oorl.algos.kl`: KL estimators k1, k2, k3.
- :mod:`~oorl.algos.advantages`: REINFORCE++, REINFORCE++-baseline, RLOO, GRPO, Dr. GRPO.
- :mod:`~oorl.algos.policy_loss`: PPO clipped surrogate and loss aggregation.
- :mod:`~oorl.algos.preference`: DPO, IPO, GEPO (Group Equivalent Preference Optimization).
- :mod:`~oorl.algos.gepo_memory_light`: the exact GEPO gradient with constant memory in group size.
"""

from oorl.algos.advantages import (
    ADVANTAGE_ESTIMATORS,
    ESTIMATOR_NAMES,
    AdvantageEstimator,
    AllReduce,
    dr_grpo,
    global_whiten,
    grpo,
    reinforce_pp,
    reinforce_pp_baseline,
    returns_to_go,
    rloo,
    single_process,
    token_rewards,
)
from oorl.algos.gepo_memory_light import gepo_backward_memory_light
from oorl.algos.kl import KL_ESTIMATORS, kl_k1, kl_k2, kl_k3
from oorl.algos.logprobs import sequence_logprobs, token_logprobs
from oorl.algos.policy_loss import Aggregation, aggregate_loss, ppo_policy_loss
from oorl.algos.preference import dpo_loss, dpo_pairs, gepo_coefficients, gepo_loss, ipo_loss

__all__ = [
    "ADVANTAGE_ESTIMATORS",
    "ESTIMATOR_NAMES",
    "KL_ESTIMATORS",
    "AdvantageEstimator",
    "Aggregation",
    "AllReduce",
    "aggregate_loss",
    "dpo_loss",
    "dpo_pairs",
    "dr_grpo",
    "gepo_backward_memory_light",
    "gepo_coefficients",
    "gepo_loss",
    "global_whiten",
    "grpo",
    "ipo_loss",
    "kl_k1",
    "kl_k2",
    "kl_k3",
    "ppo_policy_loss",
    "reinforce_pp",
    "reinforce_pp_baseline",
    "returns_to_go",
    "rloo",
    "sequence_logprobs",
    "single_process",
    "token_logprobs",
    "token_rewards",
]
