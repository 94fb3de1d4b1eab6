"""Training: model loading (and the tiny model), SFT warm-up, the OORL recipe, checkpoints, the demo.

- :mod:`~oorl.train.model`: policy / reference, the tiny Qwen2 model and its tokenizer.
- :mod:`~oorl.train.sft`: supervised warm-up on parallel translation pairs.
- :mod:`~oorl.train.recipe`: one OORL optimizer step (REINFORCE++ + GEPO / DPO).
- :mod:`~oorl.train.run`: setup -> train -> cleanup, checkpoints, resume, signals.
- :mod:`~oorl.train.demo`: `oorl demo`, the end-to-end tiny job and its report.
"""
