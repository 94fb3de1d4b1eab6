import json
import random

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from oorl.config import load_config
from oorl.train.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from oorl.train.dist import Dist
from oorl.train.engine import make_engine
from oorl.train.model import load_model


@pytest.mark.parametrize("export_dtype", ["float32", "bfloat16"])
def test_round_trip_restores_weights_optimizer_scheduler_rng(tiny_model_dir, tmp_path, export_dtype):
    """The exported weights may be bf16 (the paper config); resume still restores the float32 masters."""
    cfg = load_config(
        None, [f"checkpoint.export_dtype={export_dtype}", "optim.lr=1e-3", "optim.warmup_ratio=0.1"]
    )
    model, tok = load_model(cfg.model, str(tiny_model_dir))
    engine = make_engine(cfg, model, Dist(), 10)
    engine.model(input_ids=torch.tensor([[1, 2, 3]])).logits.sum().backward()
    engine.step()
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    root = tmp_path / "ckpt"
    for step in (1, 2, 3):
        data = {"tasks": {"epoch": 0, "position": step}}
        save_checkpoint(root, step=step, engine=engine, tokenizer=tok, data_state=data, keep_last=2)
    assert sorted(p.name for p in root.iterdir()) == ["step-000002", "step-000003"]
    assert latest_checkpoint(root).name == "step-000003"
    expected = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    weights = {k: v.clone() for k, v in engine.model.state_dict().items()}
    exported = load_file(str(root / "step-000003" / "model.safetensors"))
    assert {v.dtype for v in exported.values()} == {getattr(torch, export_dtype)}
    assert json.loads((root / "step-000003" / "config.json").read_text())["dtype"] == export_dtype

    model2, _ = load_model(cfg.model, str(tiny_model_dir))
    engine2 = make_engine(cfg, model2, Dist(), 10)
    random.seed(99), np.random.seed(99), torch.manual_seed(99)
    state = load_checkpoint(root / "step-000003", engine=engine2)
    assert state["step"] == 3 and state["data"] == {"tasks": {"epoch": 0, "position": 3}}
    assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == expected
    for k, v in engine2.model.state_dict().items():
        assert torch.equal(v, weights[k]), k
    assert engine2.lr() == engine.lr()
    s1, s2 = engine.optimizer.state_dict()["state"], engine2.optimizer.state_dict()["state"]
    assert s1.keys() == s2.keys() and all(torch.equal(s1[i]["exp_avg"], s2[i]["exp_avg"]) for i in s1)


def test_no_checkpoint_means_none(tmp_path):
    assert latest_checkpoint(tmp_path / "missing") is None
    (tmp_path / "c" / ".tmp-step-000001").mkdir(parents=True)
    assert latest_checkpoint(tmp_path / "c") is None  # an unfinished save is never picked
