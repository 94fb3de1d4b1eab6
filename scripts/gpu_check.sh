#!/usr/bin/env bash
# GPU check, for a CUDA machine: the tiny recipe for 5 OORL steps with each engine (ddp, fsdp,
# deepspeed ZeRO-2) on one GPU, on a randomly initialised ~0.5 B Qwen3-architecture model in the
# paper's precision (bf16 compute over float32 master weights). Prints one JSON line per engine:
# mean step time (after the first step), generation time, peak GPU memory.
#   bash scripts/gpu_check.sh [OUT_DIR] [STEPS]
# Needs torch with CUDA, transformers and deepspeed importable by `python` (PYTHON=... to choose).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/gpu_check}
steps=${2:-5}
py=${PYTHON:-python}
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
"$py" -c 'import torch; assert torch.cuda.is_available(), "no CUDA device"; print(torch.cuda.get_device_name(0))'
mkdir -p "$out"
[ -f "$out/model/config.json" ] || "$py" scripts/gpu_check.py build "$out/model"
for engine in ddp fsdp deepspeed; do
  "$py" -m torch.distributed.run --standalone --nproc_per_node 1 scripts/gpu_check.py "$out" "$engine" "$steps" \
    2>"$out/$engine.stderr" | grep '^{' || { echo "{\"engine\": \"$engine\", \"error\": \"see $out/$engine.stderr\"}"; tail -20 "$out/$engine.stderr" >&2; }
done
