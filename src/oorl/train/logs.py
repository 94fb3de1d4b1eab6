"""Metric sinks: JSONL (always), TensorBoard, Weights & Biases (only when asked; import guarded)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def truncate_metrics(path: Path, *, after_step: int) -> None:
    """Drop rows logged after `after_step` (a crash between a checkpoint and the next one)."""
    if not path.exists():
        return
    rows = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    kept = [r for r in rows if json.loads(r).get("step", 0) <= after_step]
    path.write_text("".join(r + "\n" for r in kept), encoding="utf-8")


class MetricsLogger:
    """One row per optimizer step to `<out>/metrics.jsonl`, mirrored to TensorBoard / W&B."""

    def __init__(
        self,
        out: str | Path,
        *,
        tensorboard: bool = True,
        wandb: bool = False,
        wandb_project: str = "oorl",
        config: dict | None = None,
        enabled: bool = True,
        filename: str = "metrics.jsonl",
    ):
        self.enabled = enabled
        self.path = Path(out) / filename
        self.tb = None
        self.wandb = None
        if not enabled:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(str(Path(out) / "tb"))
        if wandb:
            try:
                import wandb as wandb_lib
            except ImportError as e:
                raise ImportError("log.wandb needs the wandb extra: pip install 'oorl[wandb]'") from e
            self.wandb = wandb_lib.init(project=wandb_project, config=config, dir=str(out))

    def log(self, step: int, metrics: dict[str, Any]) -> None:
        if not self.enabled:
            return
        row = {"step": step, **metrics}
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
        numeric = {k: v for k, v in metrics.items() if isinstance(v, int | float) and not isinstance(v, bool)}
        if self.tb is not None:
            for k, v in numeric.items():
                self.tb.add_scalar(k, v, step)
            self.tb.flush()
        if self.wandb is not None:
            self.wandb.log(numeric, step=step)

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()
        if self.wandb is not None:
            self.wandb.finish()


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
