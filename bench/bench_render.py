"""Render speed: one reused :class:`fusion.render.audio.Renderer` vs a new synthesizer per call.

Real-time factor (RTF) = seconds of audio produced / wall-clock seconds spent (higher is better).
The melody is synthetic but musical: ``--seconds`` of C major at ``--tempo`` bpm in 4/4, a
stepwise line of eighths and sixteenths with an occasional quarter note and rest (seeded).

* ``reused``: ``Renderer.render`` on one renderer whose SoundFont was loaded once (includes the
  per-render reset that makes renders reproducible).
* ``reused, no reset``: ``pm.fluidsynth`` on that same loaded synthesizer without the reset
  (shows what reproducibility costs).
* ``naive``: per call, a new ``fluidsynth.Synth``, ``sfload`` of the SoundFont, ``pm.fluidsynth``,
  ``delete`` -- what ``pm.fluidsynth()`` without a synthesizer does.

    python bench/bench_render.py [--seconds 30] [--repeats 7] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from fusion.render.audio import Renderer, bundled_soundfont  # noqa: E402
from fusion.melody import Melody, Note  # noqa: E402
from fusion.render.midi import melody_to_midi  # noqa: E402

C_MAJOR = (0, 2, 4, 5, 7, 9, 11)


def c_major_melody(seconds: float = 30.0, tempo: float = 120.0, seed: int = 0) -> Melody:
    """A seeded stepwise C-major line of sixteenths, eighths and a few quarters and rests."""
    rng = np.random.default_rng(seed)
    scale = [12 * octave + pc for octave in (5, 6) for pc in C_MAJOR] + [84]  # C4..C6
    beats = seconds * tempo / 60.0
    index, t, notes = 7, 0.0, []
    while True:
        duration = float(rng.choice([0.25, 0.5, 1.0], p=[0.45, 0.45, 0.10]))
        if t + duration > beats:
            break
        if rng.random() < 0.06:  # a rest
            t += duration
            continue
        index = int(np.clip(index + rng.choice([-2, -1, -1, 1, 1, 2, 0]), 0, len(scale) - 1))
        notes.append(Note(scale[index], t, duration))
        t += duration
    return Melody(notes=tuple(notes), genre=None, title="bench C major", tempo=tempo,
                  meter=(4, 4), key_tonic=0, key_mode="major")


def _naive(pm, sf2: str, sample_rate: int) -> np.ndarray:
    import fluidsynth

    synth = fluidsynth.Synth(samplerate=float(sample_rate))
    try:
        sfid = synth.sfload(sf2)
        return pm.fluidsynth(fs=sample_rate, synthesizer=synth, sfid=sfid)
    finally:
        synth.delete()


def _time(fn, repeats: int) -> tuple[list[float], int]:
    times, n = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        audio = fn()
        times.append(time.perf_counter() - start)
        n = len(audio)
    return times, n


def run(seconds: float, tempo: float, repeats: int, sample_rate: int, warmup: int = 1) -> dict:
    melody = c_major_melody(seconds, tempo)
    sf2 = str(bundled_soundfont())
    pm = melody_to_midi(melody)
    results = {}
    with Renderer(sample_rate=sample_rate) as renderer:
        for _ in range(warmup):
            renderer.render(melody)
        times, n = _time(lambda: renderer.render(melody), repeats)
        results["reused"] = (times, n)
        raw = lambda: pm.fluidsynth(fs=sample_rate, synthesizer=renderer.synth, sfid=renderer.sfid)  # noqa: E731
        raw()
        results["reused, no reset"] = _time(raw, repeats)
    for _ in range(warmup):
        _naive(pm, sf2, sample_rate)
    results["naive"] = _time(lambda: _naive(pm, sf2, sample_rate), repeats)
    rows = {}
    for name, (times, n) in results.items():
        audio_s = n / sample_rate
        median = statistics.median(times)
        rows[name] = {"audio_s": round(audio_s, 3), "median_wall_s": round(median, 4),
                      "min_wall_s": round(min(times), 4), "max_wall_s": round(max(times), 4),
                      "rtf_median": round(audio_s / median, 1)}
    return {
        "melody": {"notes": len(melody), "beats": melody.duration, "tempo": tempo,
                   "melody_s": round(melody.duration * 60 / tempo, 3)},
        "repeats": repeats, "sample_rate": sample_rate,
        "soundfont": os.path.basename(sf2),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "processor": platform.processor() or platform.machine()},
        "results": rows,
        "speedup_reused_vs_naive": round(rows["naive"]["median_wall_s"] / rows["reused"]["median_wall_s"], 2),
    }


def markdown(report: dict) -> str:
    lines = [
        f"Melody: {report['melody']['notes']} notes, {report['melody']['melody_s']} s at "
        f"{report['melody']['tempo']:g} bpm; {report['repeats']} repeats, median; "
        f"{report['sample_rate']} Hz, {report['soundfont']}",
        "",
        "| method | audio (s) | median wall (s) | min / max (s) | real-time factor |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in report["results"].items():
        lines.append(f"| {name} | {row['audio_s']:.2f} | {row['median_wall_s']:.4f} | "
                     f"{row['min_wall_s']:.4f} / {row['max_wall_s']:.4f} | {row['rtf_median']:.1f}x |")
    lines.append("")
    lines.append(f"Reused renderer is {report['speedup_reused_vs_naive']}x faster than a new synth per call.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="melody length in seconds")
    parser.add_argument("--tempo", type=float, default=120.0, help="beats per minute")
    parser.add_argument("--repeats", type=int, default=7, help="timed renders per method")
    parser.add_argument("--sample-rate", type=int, default=44100)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    report = run(args.seconds, args.tempo, args.repeats, args.sample_rate)
    print(json.dumps(report, indent=2) if args.json else markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
