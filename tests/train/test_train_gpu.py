"""The engines on one CUDA device: each runs 3 OORL steps on `cuda:0`, matches ddp and resumes
exactly (the CPU tests cover several ranks; this checks device placement and nccl)."""

import sys

import pytest
import torch
from test_train_engines import WORKER, _check, _run

pytestmark = [pytest.mark.gpu, pytest.mark.slow]


@pytest.mark.parametrize("engine", ["fsdp", "deepspeed"])
def test_engine_on_one_gpu_matches_ddp(engine, data_dir, tiny_model_dir, tmp_path):
    for name in ("ddp", engine):
        _run([sys.executable, str(WORKER), str(tmp_path), str(data_dir), str(tiny_model_dir), name], tmp_path)
    reference = torch.load(tmp_path / "ddp-world1.pt")
    _check(torch.load(tmp_path / f"{engine}-world1.pt"), reference, tiny_model_dir)
