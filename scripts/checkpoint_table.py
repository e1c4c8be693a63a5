"""Print the table of trained systems (README, "Training and generating") from the model
configs in ``checkpoints/``: parameters, validation NLL per genre, training time of the stages
each system needs. Usage: ``python scripts/checkpoint_table.py [checkpoints/]``."""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fusion.model import systems  # noqa: E402


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else systems.default_root()
    print("| system | parameters | val NLL jazz (nats/token) | val NLL folk | stages' wall time (min) |")
    print("|---|---:|---:|---:|---:|")
    run = None
    for name in systems.available(root):
        cfg = json.loads((root / name / "config.json").read_text())
        t = cfg["training"]
        run = t["run_seconds"]
        nll = cfg.get("validation_nll", {})
        jazz = " / ".join(f"{v:.3f}" for k, v in nll.items() if k.startswith("jazz")) or "-"
        folk = " / ".join(f"{v:.3f}" for k, v in nll.items() if k.startswith("folk")) or "-"
        print(f"| {name} | {cfg['parameters']:,} | {jazz} | {folk} | {sum(t['stage_seconds'].values()) / 60:.1f} |")
    if run is not None:
        print(f"\nWhole run (all stages, preset `{t['preset']['name']}`, {t['device']}, {t['threads']} threads): "
              f"{run / 60:.1f} min.")


if __name__ == "__main__":
    main()
