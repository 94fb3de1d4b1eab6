"""Peak memory and time of one GEPO step on the CPU: plain autograd vs the memory-light path.

    python benchmarks/gepo_memory.py [--seq-len 384] [--group-sizes 2 4 8 16] [--rounds 3] [--threads 1]

GEPO (Group *Equivalent* Preference Optimization, Wu et al. 2025, OORL, arXiv 2505.12723) scores a
group of n winners and m losers. Plain autograd keeps the activations of all n + m sequences until
``backward()``; the memory-light path (``oorl.algos.gepo_backward_memory_light``) does a no-grad
pass, computes the closed-form dL/dr_i, then back-propagates one sequence at a time.

Setup: a tiny Qwen2 (hidden 256, 4 layers, vocab 2048, float32, about 4M parameters) so that
activations, not weights, dominate; a group of G sequences of ``--seq-len`` tokens (half winners, half
losers; the last 3/4 of each is the completion); cached reference log-probs (as for a static GEPO
dataset). The plain path runs the whole group as one batch; the light path uses micro-batches of 1.

How memory is measured, honestly, on a CPU: every (path, G) runs in a fresh subprocess, so no
allocator state leaks between configurations, with ``MALLOC_MMAP_THRESHOLD_=65536`` so that glibc
serves every tensor buffer with mmap and returns it on free (resident memory then tracks live tensors
instead of a cache). Just before its first step the process resets the kernel's peak-RSS counter
(writing 5 to ``/proc/self/clear_refs``, Linux >= 4.0); after it, ``VmHWM - VmRSS_before`` is the
step's peak: activations, logits, and the gradients (parameter-sized, the same for both paths).

How time is measured: after its memory step, the plain path's subprocess times ``--rounds`` rounds of
one plain step then one light step, on the same model and data. Interleaving exposes both paths to the
same load, so on a shared machine the per-round ratio is far steadier than times taken minutes apart;
the table shows median times and the median per-round ratio. One torch thread by default: with two,
OpenMP threads spin at barriers while a neighbour holds the other core, which slows the many small
kernels of micro-batch 1 far more than the one big batch and would bias the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

MEMORY_TARGET = 1.25  # light-path peak at the largest G <= 1.25 x its peak at the smallest G
TIME_TARGET = 1.5  # light-path time <= 1.5 x the plain path's, at every G


# ---------------------------------------------------------------------------------------------------
# Worker: one (path, G) in a fresh process
# ---------------------------------------------------------------------------------------------------


def _proc_status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _peak_mib_of(step: Callable[[], None]) -> float:
    """Resident-memory high-water mark of ``step()`` above the resident memory before it, in MiB."""
    rss_before = _proc_status_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS
    step()
    return (_proc_status_kib("VmHWM") - rss_before) / 1024


def _gepo_steps(group_size: int, seq_len: int) -> dict[str, Callable[[], None]]:
    """One plain and one memory-light GEPO step (zero grads, forward, backward) on a tiny Qwen2."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from oorl.algos import gepo_backward_memory_light, gepo_loss, sequence_logprobs, token_logprobs

    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=2048,
        hidden_size=256,
        intermediate_size=768,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=seq_len,
        tie_word_embeddings=False,
    )
    model = Qwen2ForCausalLM(config).eval()  # eval: no dropout, the light path's two passes agree
    input_ids = torch.randint(0, config.vocab_size, (group_size, seq_len))  # (G, T)
    completion = torch.zeros(group_size, seq_len - 1, dtype=torch.bool)
    completion[:, seq_len // 4 :] = True  # the last 3/4 are the completion
    winner_mask = torch.arange(group_size) < group_size // 2
    group_index = torch.zeros(group_size, dtype=torch.long)

    def seq_logps(idx: torch.Tensor) -> torch.Tensor:  # (b,) -> (b,)
        logits = model(input_ids=input_ids[idx]).logits  # (b, T, V)
        token_logps = token_logprobs(logits[:, :-1], input_ids[idx, 1:], completion[idx])
        return sequence_logprobs(token_logps, completion[idx])

    with torch.no_grad():  # cached reference log-probs (also warms the forward kernels up)
        ref_logps = torch.cat([seq_logps(torch.tensor([i])) for i in range(group_size)]) - 1.0

    def plain() -> None:
        model.zero_grad(set_to_none=True)  # so every step allocates its gradients
        loss, _ = gepo_loss(seq_logps(torch.arange(group_size)), ref_logps, winner_mask, group_index)
        loss.backward()

    def light() -> None:
        model.zero_grad(set_to_none=True)
        gepo_backward_memory_light(seq_logps, ref_logps, winner_mask, group_index, micro_batch_size=1)

    return {"plain": plain, "light": light}


def worker(path: str, group_size: int, seq_len: int, rounds: int, threads: int) -> dict[str, float]:
    import torch

    torch.set_num_threads(threads)
    steps = _gepo_steps(group_size, seq_len)
    result = {"peak_mib": _peak_mib_of(steps[path])}
    if path == "plain":  # the timing rounds, both paths interleaved
        times: dict[str, list[float]] = {"plain": [], "light": []}
        for _ in range(rounds):
            for name, step in steps.items():
                start = time.perf_counter()
                step()
                times[name].append(time.perf_counter() - start)
        result["plain_s"] = statistics.median(times["plain"])
        result["light_s"] = statistics.median(times["light"])
        result["time_ratio"] = statistics.median(
            b / a for a, b in zip(times["plain"], times["light"], strict=True)
        )
    return result


def run_in_subprocess(path: str, group_size: int, args: argparse.Namespace) -> dict[str, float]:
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
    cmd = [sys.executable, __file__, "--worker", path, "--group-sizes", str(group_size)]
    cmd += ["--seq-len", str(args.seq_len), "--rounds", str(args.rounds), "--threads", str(args.threads)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------------
# Driver: the table
# ---------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seq-len", type=int, default=384)
    parser.add_argument("--group-sizes", type=int, nargs="+", default=[2, 4, 8, 16])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds per group size")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per subprocess")
    parser.add_argument("--worker", choices=["plain", "light"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.group_sizes[0], args.seq_len, args.rounds, args.threads)))
        return

    start = time.perf_counter()
    plain = {g: run_in_subprocess("plain", g, args) for g in args.group_sizes}
    light = {g: run_in_subprocess("light", g, args)["peak_mib"] for g in args.group_sizes}
    print(
        f"GEPO step, tiny Qwen2 on CPU ({args.threads} thread), {args.seq_len} tokens per sequence, light path"
        f" micro-batch 1.\npeak = the step's resident-memory high-water mark; time = median of {args.rounds}"
        " interleaved rounds."
    )
    header = "| G | plain peak MiB | light peak MiB | light/plain mem | plain s/step | light s/step | light/plain time |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for g in args.group_sizes:
        p = plain[g]
        print(
            f"| {g} | {p['peak_mib']:.0f} | {light[g]:.0f} | {light[g] / p['peak_mib']:.2f}"
            f" | {p['plain_s']:.2f} | {p['light_s']:.2f} | {p['time_ratio']:.2f} |"
        )

    lo, hi = min(args.group_sizes), max(args.group_sizes)
    light_growth = light[hi] / light[lo]
    plain_growth = plain[hi]["peak_mib"] / plain[lo]["peak_mib"]
    worst_time = max(plain[g]["time_ratio"] for g in args.group_sizes)
    print()
    print(
        f"plain peak G={hi} / G={lo}: {plain_growth:.2f}x (grows about linearly: {hi // lo}x the sequences)"
    )
    verdict = "MET" if light_growth <= MEMORY_TARGET else "NOT MET"
    print(
        f"target: light peak G={hi} <= {MEMORY_TARGET}x light peak G={lo}: {light_growth:.2f}x -> {verdict}"
    )
    verdict = "MET" if worst_time <= TIME_TARGET else "NOT MET"
    print(f"target: light time <= {TIME_TARGET}x plain time at every G: worst {worst_time:.2f}x -> {verdict}")
    print(f"benchmark wall time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
