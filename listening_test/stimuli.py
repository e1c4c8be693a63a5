"""``python -m listening_test prepare``: the pool of clips, rendered and stored in the database.

Roles (the three steps of the paper's test, and what its authors asked for):

* ``main`` clips of each system of Table II (RM, MC, MLE, GAN, RL, Fusion), ``per_system`` each;
  and as many *human-composed controls*, "real jazz" and "real folk" excerpts of held-out
  (test-split) pieces, and the positive controls "real medley" and "real hybrid", fusions made of
  other excerpts of those pieces with no model (:mod:`fusion.evaluation.controls`);
* ``qualification`` clips: other held-out real excerpts of both genres (the paper drew them from
  the data; ours are pieces no model saw), ``qualification`` of each genre;
* ``catch`` clips: attention checks that are clearly neither jazz nor folk (one pitch repeated in
  even quarter notes, the same for the whole clip); an attentive listener answers "neither".

Every clip has the same length (``bars`` of 4/4 at ``tempo``), instrument and loudness: the audio
is cut or padded to exactly that length, with a short fade-out, so no clip is recognisable by its
length. The clips are seeded: the same arguments give the same pool.
"""
from __future__ import annotations

import io
import random

import numpy as np
from scipy.io import wavfile
from sqlalchemy import func, select

from fusion import registry
from fusion.evaluation import controls
from fusion.data import corpus
from fusion.model import systems
from fusion.render import midi
from fusion.render.audio import Renderer
from fusion.melody import Melody, Note
from listening_test.db import Participant, Stimulus

SYSTEMS = registry.LISTENING_SYSTEMS  # rm, mc, mle, mle_t, gan, rl, poe, fusion, blend, hybrid
CONTROLS = registry.REAL  # real jazz, real folk, real medley, real hybrid
FUSION_CONTROLS = registry.FUSION_CONTROLS
SAMPLE_RATE = 22050
FADE_S = 0.05


class PoolError(RuntimeError):
    pass


def free_windows(test_windows: list[Melody], exclude: set = frozenset()) -> list[Melody]:
    """The held-out windows with four notes at least that no clip in ``exclude`` ((source id, window
    start) pairs) is made of."""
    return [w for w in test_windows if (w.source_id, w.extra.get("window_start")) not in exclude and len(w.notes) >= 4]


def excerpts(genre: str, n: int, beats: float, rng: random.Random, test_windows: list[Melody],
             exclude: set = frozenset()) -> list[Melody]:
    """``n`` distinct bar-aligned excerpts of ``beats`` beats from ``test_windows``, the held-out
    windows of ``genre``, none of them in ``exclude``."""
    windows = free_windows(test_windows, exclude)
    if len(windows) < n:
        raise PoolError(f"only {len(windows)} held-out {genre} windows for {n} clips")
    picks = rng.sample(windows, n)
    return [w.window(0.0, beats).replace(meter=(4, 4)) for w in picks]


def catch_melody(beats: float, pitch: int) -> Melody:
    """One pitch in even quarter notes: not jazz, not folk, not a mixture."""
    return Melody(notes=tuple(Note(pitch, float(b), 0.9) for b in range(int(beats))), title="catch trial")


def render(renderer: Renderer, melody: Melody, seconds: float, program: int, tempo: float) -> bytes:
    """WAV bytes of exactly ``seconds`` (cut or padded, faded out at the end)."""
    audio = renderer.render(melody, program=program, tempo=tempo)
    n = int(round(seconds * renderer.sample_rate))
    audio = np.pad(audio, (0, max(0, n - len(audio))))[:n].copy()
    fade = int(FADE_S * renderer.sample_rate)
    audio[-fade:] *= np.linspace(1.0, 0.0, fade)
    buf = io.BytesIO()
    wavfile.write(buf, renderer.sample_rate, (audio * 32767).astype(np.int16))
    return buf.getvalue()


def prepare(sessions, per_system: int = 50, qualification: int = 20, catch: int = 6, bars: int = 4,
            tempo: float = 100.0, program: int = 0, seed: int = 0, replace: bool = False,
            checkpoints: str | None = None, log=print) -> dict:
    """Build and store the pool (module docstring); returns the counts per role and system."""
    beats = 4.0 * bars
    seconds = beats * 60.0 / tempo
    rng = random.Random(seed)
    with sessions() as s:
        if s.scalar(select(func.count()).select_from(Stimulus)):
            if not replace:
                raise PoolError("the database already holds a stimulus pool (use --replace to rebuild it)")
            if s.scalar(select(func.count()).select_from(Participant)):
                raise PoolError("participants have started on this pool: it cannot be replaced; "
                                "use a new database (DATABASE_URL or FUSION_SURVEY_DIR)")
            s.query(Stimulus).delete()
            s.commit()
    clips: list[tuple[str, str, str | None, Melody, dict]] = []  # role, system, genre, melody, meta
    for name in SYSTEMS:
        system = systems.load_generator(name, checkpoints)
        for i, m in enumerate(system.sample(per_system, bars=bars, seed=seed * 7919 + 1)):
            clips.append(("main", name, None, m, {"seed": seed * 7919 + 1, "index": i,
                                                  "commit": system.config.get("training", {}).get("commit", {})}))
    used: set = set()
    corpora = {g: corpus.load(g) for g in controls.GENRES}  # each read once
    for control in registry.GENRE_CONTROLS:  # real jazz, real folk
        genre = registry.CONTROL_KINDS[control]
        for role, count, label in (("main", per_system, control), ("qualification", qualification, genre)):
            for m in excerpts(genre, count, beats, rng, corpora[genre].windows("test"), used):
                used.add((m.source_id, m.extra.get("window_start")))
                clips.append((role, label if role == "main" else "real " + genre, genre, m,
                              {"source_id": m.source_id, "window_start": m.extra.get("window_start")}))
    windows = {g: [w.window(0.0, beats).replace(meter=(4, 4)) for w in free_windows(c.windows("test"), used)]
               for g, c in corpora.items()}  # excerpts no other real clip is made of
    pieces = {g: c.pieces["test"] for g, c in corpora.items()}
    for name in FUSION_CONTROLS:
        kind = registry.CONTROL_KINDS[name]
        for i, m in enumerate(controls.draw(kind, windows, pieces, per_system, seed * 7919 + 2)):
            clips.append(("main", name, None, m, {"seed": seed * 7919 + 2, "index": i, "way": list(m.extra["way"]),
                                                  "sources": list(m.extra["sources"])}))
    for i in range(catch):
        clips.append(("catch", "catch", None, catch_melody(beats, 60 + 2 * (i % 6)), {"index": i}))
    with Renderer(sample_rate=SAMPLE_RATE) as renderer, sessions() as s:
        for k, (role, system, genre, m, meta) in enumerate(clips):
            s.add(Stimulus(role=role, system=system, genre=genre, seconds=seconds,
                           audio=render(renderer, m, seconds, program, tempo),
                           midi=midi.midi_bytes(m.replace(tempo=tempo), program=program),
                           meta={**meta, "notes": len(m.notes), "bars": bars, "tempo": tempo, "program": program}))
            if (k + 1) % 50 == 0:
                log(f"rendered {k + 1} of {len(clips)} clips")
        s.commit()
    counts: dict = {}
    for role, system, *_ in clips:
        counts.setdefault(role, {}).setdefault(system, 0)
        counts[role][system] += 1
    return {"clips": len(clips), "seconds_per_clip": seconds, "counts": counts}
