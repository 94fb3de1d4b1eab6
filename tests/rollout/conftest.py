from __future__ import annotations

import pytest
import torch

torch.set_num_threads(1)

TEXTS = [
    "x = int(input())\nprint(x * 3 + 1)\n",
    "const x = parseInt(require('fs').readFileSync(0, 'utf8'));\nconsole.log(x * 3 + 1);\n",
    "```javascript\nconsole.log(1);\n```",
    "Translate the following Python code into JavaScript.",
] * 20


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(model, tokenizer) of a freshly built tiny Qwen2, reloaded through `load_model`."""
    from oorl.config import ModelSettings, TinyModelSettings
    from oorl.train.model import build_tiny_model, load_model

    out = tmp_path_factory.mktemp("tiny-rollout")
    settings = TinyModelSettings(
        vocab_size=320, hidden_size=32, intermediate_size=64, num_heads=2, num_kv_heads=1
    )
    build_tiny_model(out, TEXTS, settings, seed=0)
    model, tok = load_model(ModelSettings(name_or_path=str(out)))
    model.eval()
    return model, tok
