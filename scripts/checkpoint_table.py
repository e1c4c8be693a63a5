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
    runs: dict[tuple, list[str]] = {}  # (command, run_seconds, preset, device, threads) -> systems
    for name in systems.available(root):
        cfg = json.loads((root / name / "config.json").read_text())
        t = cfg["training"]
        runs.setdefault((t["command"], t["run_seconds"], t["preset"]["name"], t["device"], t["threads"]), []).append(name)
        nll = cfg.get("validation_nll", {})
        jazz = " / ".join(f"{v:.3f}" for k, v in nll.items() if k.startswith("jazz")) or "-"
        folk = " / ".join(f"{v:.3f}" for k, v in nll.items() if k.startswith("folk")) or "-"
        print(f"| {name} | {cfg['parameters']:,} | {jazz} | {folk} | {sum(t['stage_seconds'].values()) / 60:.1f} |")
    print()
    for (command, run, preset, device, threads), names in runs.items():
        # a checkpoint folder may hold the exports of more than one run: each with its own time
        print(f"Whole run of {', '.join(names)} (`{command}`; every stage of that run, preset `{preset}`, "
              f"{device}, {threads} threads): {run / 60:.1f} min.")


if __name__ == "__main__":
    main()
