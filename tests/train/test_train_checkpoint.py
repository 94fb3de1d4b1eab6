import random

import numpy as np
import torch

from oorl.train.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from oorl.train.dist import Dist
from oorl.train.model import load_model
from oorl.train.recipe import make_scheduler


def test_round_trip_restores_weights_optimizer_scheduler_rng(tiny_model_dir, tmp_path):
    from oorl.config import ModelSettings

    model, tok = load_model(ModelSettings(), str(tiny_model_dir))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    sched = make_scheduler(opt, "cosine", 10, 0.1)
    model(input_ids=torch.tensor([[1, 2, 3]])).logits.sum().backward()
    opt.step()
    sched.step()
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    root = tmp_path / "ckpt"
    for step in (1, 2, 3):
        save_checkpoint(
            root,
            step=step,
            model=model,
            tokenizer=tok,
            optimizer=opt,
            scheduler=sched,
            data_state={"tasks": {"epoch": 0, "position": step}},
            dist=Dist(),
            keep_last=2,
        )
    assert sorted(p.name for p in root.iterdir()) == ["step-000002", "step-000003"]
    assert latest_checkpoint(root).name == "step-000003"
    expected = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    weights = {k: v.clone() for k, v in model.state_dict().items()}

    model2, _ = load_model(ModelSettings(), str(tiny_model_dir))
    opt2 = torch.optim.AdamW(model2.parameters(), lr=1e-3)
    sched2 = make_scheduler(opt2, "cosine", 10, 0.1)
    random.seed(99), np.random.seed(99), torch.manual_seed(99)
    state = load_checkpoint(root / "step-000003", model=model2, optimizer=opt2, scheduler=sched2, dist=Dist())
    assert state["step"] == 3 and state["data"] == {"tasks": {"epoch": 0, "position": 3}}
    assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == expected
    for k, v in model2.state_dict().items():
        assert torch.equal(v, weights[k]), k
    assert sched2.get_last_lr() == sched.get_last_lr()
    s1, s2 = opt.state_dict()["state"], opt2.state_dict()["state"]
    assert s1.keys() == s2.keys() and all(torch.equal(s1[i]["exp_avg"], s2[i]["exp_avg"]) for i in s1)


def test_no_checkpoint_means_none(tmp_path):
    assert latest_checkpoint(tmp_path / "missing") is None
    (tmp_path / "c" / ".tmp-step-000001").mkdir(parents=True)
    assert latest_checkpoint(tmp_path / "c") is None  # an unfinished save is never picked
