"""Does the padded final rest of a window teach the folk generator its bar-long pauses?

The folk generator's MLE stage (``Trainer.stage_mle_folk``, the paper preset's steps and seed)
is trained twice from scratch, in a temporary run folder: on the windows as they are cut
(``corpus.Settings()``: a window that runs past the piece's end is padded with a final rest) and
on whole windows only (``whole_windows=True``, preset ``paper``; the padded run is preset ``paper_padded_windows``). Each generator
writes 500 melodies of 4 bars (seed 0, the grammar's phrase rule); printed: the training windows
and the share of melodies with a rest of at least 2 and 4 beats between two notes (real folk
validation windows: 4.9% and 0.1%, ``scripts/rest_audit.py``). No judge; about 3 minutes per
generator at one thread. The numbers behind ``docs/method.md``, "Long silences".

    .venv/bin/python scripts/window_padding_check.py [--threads 1]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from fusion.melody import TICKS_PER_BEAT  # noqa: E402
from fusion.model import train  # noqa: E402
from fusion.model.presets import PRESETS  # noqa: E402
from fusion.model.sampling import sample  # noqa: E402
from rest_audit import silences  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print("| folk generator (MLE stage only) | training windows | inner rest >= 2 beats | inner rest >= 4 beats | seconds |")
    print("|---|---:|---:|---:|---:|")
    for name in ("paper_padded_windows", "paper"):
        t0 = time.time()
        with tempfile.TemporaryDirectory() as run:
            trainer = train.Trainer(PRESETS[name], run, systems=["folk"], progress=False)
            trainer.stages = ["mle_folk"]
            windows = len(trainer.data.seqs["folk", "train"])
            trainer.run()
            seqs = sample([trainer.modules["G_B"]], [1.0], 500, 16 * TICKS_PER_BEAT, trainer.grammar,
                          generator=torch.Generator().manual_seed(0))
            inner = np.array([silences(trainer.vocab.decode(s))[2] for s in seqs.tolist()])
        print(f"| {name} ({'whole windows' if PRESETS[name].whole_windows else 'padded windows'}) | {windows} "
              f"| {np.mean(inner >= 2):.3f} | {np.mean(inner >= 4):.3f} | {time.time() - t0:.0f} |", flush=True)


if __name__ == "__main__":
    main()
