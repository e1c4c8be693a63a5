"""The browser demo's engine, without the page: generate, continue, render, plot and judge.

``app.py`` builds the Gradio page on a :class:`Demo`; the tests and ``bench/bench_demo.py`` use it
directly. Everything heavy is loaded once: every checkpoint (a few MB, at start), the synthesizer
and SoundFont (at start), the corpora (for real excerpts and the real histograms) and the
automatic judge in a background thread, so the page is up at once.

**The fusion slider** (``fusion`` in -1 .. 1) mixes the next-token distributions of three
generators at every step (:class:`fusion.model.systems.Mixture`, :func:`fusion.model.sampling.next_token_probs`):

    s <= 0:  p = (-s) * p_jazz + (1 + s) * p_mid
    s >= 0:  p = (1 - s) * p_mid + s * p_folk

so -1 is the jazz generator G_A alone, 0 the midpoint system alone (:data:`MIDPOINT`, the
best-fusing single generator of ``reports/evaluation.md``; Hybrid, which the judge calls a mixture
more often, joins two generators' melodies and cannot be mixed;
:data:`fusion.registry.SLIDER_MIDPOINT`) and +1 the folk generator G_B alone, moving
linearly through each pair in between. Each distribution is masked by the grammar and tempered
before mixing; the mixture is renormalised. The slider applies to the midpoint system only (the other systems are sampled as trained).

What is written beside a melody are plain functions of their inputs: :func:`verdict` (the
automatic judge's opinion) and :func:`provenance` (which checkpoint, which settings). The page
asks the engine what is loaded through :meth:`Demo.status`.
"""
from __future__ import annotations

import math
import random
import shutil
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import plotly.graph_objects as go

from fusion import registry
from fusion.evaluation import controls
from fusion.data import corpus, keys
from fusion import features
from fusion.evaluation import judge as judging
from fusion.model import systems
from fusion.render import midi, pianoroll, score
from fusion.render.audio import default_renderer, write_mp3
from fusion.melody import Melody

REAL = registry.CONTROL_KINDS  # "real jazz" -> "jazz", ..., "real hybrid" -> "hybrid"
MIDPOINT = registry.SLIDER_MIDPOINT
#: the demo's system list: the slider's midpoint first, then the registry's order
CHOICES = [MIDPOINT, *(s.name for s in registry.SPECS if s.name != MIDPOINT)]
LABELS = {s.name: s.label for s in registry.SPECS}
#: General MIDI programs offered (name -> program number).
INSTRUMENTS = {"Acoustic Grand Piano": 0, "Electric Piano": 4, "Vibraphone": 11, "Acoustic Guitar (nylon)": 24,
               "Violin": 40, "Trumpet": 56, "Alto Sax": 65, "Tenor Sax": 66, "Clarinet": 71, "Flute": 73,
               "Fiddle": 110}
LIMITS = {"bars": (1, 32), "tempo": (40, 240), "temperature": (0.1, 2.0), "seed": (0, 2**31 - 1),
          "fusion": (-1.0, 1.0), "k": (1, 32)}
COMPARE = (-1.0, 0.0, 1.0)  # the fusion slider's positions in the side-by-side comparison
PRIMER_BARS = 4  # a continued melody keeps at most its last four bars as the primer
DURATION_CLASS_NAMES = ("1/16", "1/8 triplet", "1/8", "dotted 1/8", "1/4", "dotted 1/4", "1/2", "dotted 1/2",
                        "whole", "longer")
#: the same note lengths as short tick labels (the histograms' axis stays readable on a phone)
DURATION_TICKS = ("1/16", "1/8³", "1/8", "1/8.", "1/4", "1/4.", "1/2", "1/2.", "1", "> 1")
DURATION_AXIS = "note length (1 = whole note, . = dotted, ³ = triplet)"


def check_number(name: str, value, integer: bool = False) -> float | int:
    """``value`` as a number within :data:`LIMITS`, or a ValueError that says what is allowed."""
    low, high = LIMITS[name]
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number from {low} to {high}, got {value!r}") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise ValueError(f"{name} must be from {low} to {high}, got {value!r}")
    if integer:
        if number != int(number):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        return int(number)
    return number


def slider_weights(s: float) -> tuple[float, float, float]:
    """Mixing weights (jazz, fusion, folk) of the fusion slider (module docstring)."""
    s = float(check_number("fusion", s))
    return (abs(s), 1.0 + s, 0.0) if s <= 0 else (0.0, 1.0 - s, s)


def duration_classes(melodies) -> np.ndarray:
    """Normalised histogram of note lengths over :data:`DURATION_CLASS_NAMES`."""
    counts = np.zeros(len(DURATION_CLASS_NAMES))
    for m in melodies:
        for _, _, d in m.to_ticks():
            counts[features.ioi_class(d)] += 1
    return counts / max(counts.sum(), 1)


@dataclass
class Settings:
    """What the visitor chose (validated by :meth:`checked`)."""

    system: str = MIDPOINT
    fusion: float = 0.0
    bars: int = 8
    tempo: float = 120.0
    temperature: float = 1.0
    seed: int = 0
    instrument: str = "Acoustic Grand Piano"

    def checked(self) -> "Settings":
        if self.system not in CHOICES:
            raise ValueError(f"system must be one of {', '.join(CHOICES)}; got {self.system!r}")
        if self.instrument not in INSTRUMENTS:
            raise ValueError(f"instrument must be one of {', '.join(INSTRUMENTS)}; got {self.instrument!r}")
        return Settings(self.system, float(check_number("fusion", self.fusion)), check_number("bars", self.bars, True),
                        float(check_number("tempo", self.tempo)), float(check_number("temperature", self.temperature)),
                        check_number("seed", self.seed, True), self.instrument)

    @property
    def program(self) -> int:
        return INSTRUMENTS[self.instrument]


@dataclass(frozen=True)
class CorpusStatus:
    """One genre's real data as read by the demo."""

    genre: str
    source: str  # the corpus's source, e.g. "csv" or "kern"
    read: int  # pieces read
    notes: int  # notes read
    kept: int  # major-key pieces kept (all splits), transposed to C


@dataclass(frozen=True)
class Status:
    """What the demo has loaded (:meth:`Demo.status`), for the app's Data tab."""

    systems: tuple[str, ...]  # the systems with a checkpoint here
    data_ready: bool  # the corpora have been read, or reading them failed
    corpora: tuple[CorpusStatus, ...]  # one per genre read (empty while loading or after a failure)
    judge: str  # "training", "ready" or "unavailable"
    error: str | None  # why the real data or the judge could not be loaded ("Type: message")
    loading: str | None = None  # what is being read now: one of LOADING_STEPS, None when done
    loading_seconds: float = 0.0  # how long that step has been running

    @property
    def judge_ready(self) -> bool:
        return self.judge == "ready"


#: what the background loading does, in order (``Status.loading`` names the step under way)
LOADING_STEPS = ("jazz", "folk", "judge")
JUDGE_TRAINING = ("*No verdict yet: the automatic judge is being trained on the real data, which is still "
                  "loading (once per machine; the progress is at the top of the Demo tab). It judges the "
                  "melodies made after it is ready.*")


def verdict(melodies: list[Melody], judge: judging.Judge | None, ready: bool = True,
            error: str | None = None) -> str:
    """The automatic judge's verdict on ``melodies``, in Markdown.

    Parameters
    ----------
    melodies : list of Melody
        One melody (a detailed verdict) or several (a summary of the batch).
    judge : fusion.evaluation.judge.Judge or None
        The fitted judge; None when it is still training (``ready`` False) or unavailable.
    ready : bool
        Whether the judge has finished loading (successfully or not).
    error : str, optional
        Why the judge is unavailable, shown when ``judge`` is None and ``ready`` is True.

    Returns
    -------
    str
        The verdict, or why there is none yet.
    """
    if not ready:
        return JUDGE_TRAINING
    if judge is None:
        return f"*The automatic judge is not available: {error}*"
    vs = judge.judge(melodies)
    if len(vs) == 1:
        v = vs[0]
        parts = [f"its {k} sounds like {'jazz' if p >= 0.5 else 'folk'}" for k, p in v["opinions"].items() if p is not None]
        lean = (f"{v['p_jazz']:.0%} jazz" if v["p_jazz"] >= 0.5 else f"{1 - v['p_jazz']:.0%} folk")
        usual = ("It sounds like ordinary music of these two genres" if v["ood"] <= v["threshold"]
                 else "It is unlike the music of both genres")
        return (f"**The automatic judge hears {HEARD[v['label']]}.** "
                + (_sentence("; ".join(parts)) + " " if parts else "")
                + f"Overall it leans to {lean}. {usual} (unusualness {v['ood']:.1f}: how far it is from "
                f"the real melodies the judge learned from; above {v['threshold']:.1f} the judge says *neither*). "
                "The Evaluation tab says how the judge works.")
    counts = {lab: sum(v["label"] == lab for v in vs) for lab in judging.LABELS}
    mean = np.mean([v["p_jazz"] for v in vs])
    return (f"**The automatic judge on the batch of {len(vs)}:** "
            + ", ".join(f"{c} heard as {BATCH_HEARD[lab]}" for lab, c in counts.items())
            + f". On average they lean {mean:.0%} to jazz.")


#: how the judge's labels read in a sentence
HEARD = {"jazz": "jazz", "folk": "folk", "mixture": "a mixture of jazz and folk",
         "neither": "neither jazz nor folk"}
BATCH_HEARD = {"jazz": "jazz", "folk": "folk", "mixture": "a mixture", "neither": "neither"}


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def card_url(system: str) -> str:
    """Where the app serves a system's model card (``checkpoints/<system>/README.md``)."""
    return f"/models/{system}"


def provenance(s: Settings, n: int, primer_note: str = "", training: dict | None = None) -> str:
    """Where melodies come from and how to make them again, in Markdown.

    Parameters
    ----------
    s : Settings
        The checked settings the melodies were made with.
    n : int
        How many melodies (seeds ``s.seed`` .. ``s.seed + n - 1``).
    primer_note : str
        A sentence about the continued melody, appended when given.
    training : dict, optional
        The checkpoint's training record (``System.config["training"]``: ``command`` and
        ``commit``); unused for the real excerpts.

    Returns
    -------
    str
        The system (training command and commit, a link to its model card, slider weights) and
        the settings.
    """
    if s.system in REAL:
        what = f"{LABELS[s.system]} from the test split (pieces no model trained on), transposed to C"
        if REAL[s.system] not in controls.GENRES:
            what += "; joined with no model, a positive control (docs/method.md, 'Positive controls')"
    else:
        training = training or {}
        commit = training.get("commit", {}).get("commit", "?")[:7]
        what = (f"{LABELS[s.system]}: trained by `{training.get('command', '?')}` at commit `{commit}` "
                f"([model card]({card_url(s.system)}): how, on what data, for how long)")
        if s.system == MIDPOINT:
            w = slider_weights(s.fusion)
            what += (f"; fusion slider {s.fusion:+.2f} (weights jazz {w[0]:.2f}, {MIDPOINT} {w[1]:.2f}, "
                     f"folk {w[2]:.2f})")
    settings = (f"seed **{s.seed}**, {s.bars} bars of 4/4, tempo {s.tempo:g} bpm, temperature "
                f"{s.temperature:g}, instrument {s.instrument}" + (f", {n} melodies (seeds {s.seed}..{s.seed + n - 1})" if n > 1 else ""))
    return f"{what}. Settings: {settings}." + (f" {primer_note}" if primer_note else "")


@dataclass
class Output:
    """One demo answer: the melodies and everything shown about them."""

    melodies: list[Melody]
    audio: Path  # the first melody's audio as MP3, for the page's player (small, quick to send)
    midi_path: Path
    roll: go.Figure
    histogram: go.Figure
    verdict: str
    provenance: str
    seconds: dict = field(default_factory=dict)
    wav_path: Path | None = None  # the same audio as 16-bit WAV, for download
    samples: tuple[int, np.ndarray] | None = None  # (sample rate, int16 samples), for callers in process
    score_svg: str = ""  # the engraved score: SVG pages in an HTML fragment (score.html); "" when not asked for
    musicxml_path: Path | None = None  # the score as a MusicXML file, beside the MIDI file


class Demo:
    """Loaded once per app: systems, synthesizer, corpora and judge (module docstring)."""

    def __init__(self, root: str | Path | None = None, background: bool = True, workdir: str | Path | None = None,
                 defer: bool = False):
        self.systems = {name: systems.load_generator(name, root) for name in systems.available(root)}
        self.renderer = default_renderer()
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="fusiongan-demo-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.corpora: dict[str, corpus.Corpus] = {}
        self.real_histograms: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.judge: judging.Judge | None = None
        self.loading_error: str | None = None
        self.corpora_ready, self.judge_ready = threading.Event(), threading.Event()
        self.loading_step: str | None = None  # one of LOADING_STEPS while it runs
        self.loading_since = time.time()
        if not defer:
            self.start_loading(background)

    # loading ----------------------------------------------------------------------------------
    def start_loading(self, background: bool = True) -> None:
        """Read the corpora and fit (or load) the judge: in a thread, or now. The app calls it once
        the page is up, so that reading the data does not slow the start."""
        if background:
            threading.Thread(target=self._load, daemon=True, name="demo-data").start()
        else:
            self._load()

    def _step(self, step: str | None) -> None:
        self.loading_step, self.loading_since = step, time.time()

    def _load(self):
        try:
            settings = corpus.Settings()
            corpora = {}
            for g in ("jazz", "folk"):
                self._step(g)
                corpora[g] = corpus.load(g, settings)
            self.corpora = corpora
            self.real_histograms = {g: (features.NPD.histogram(c.windows("test")), duration_classes(c.windows("test")))
                                    for g, c in self.corpora.items()}
            self.corpora_ready.set()
            self._step("judge")
            self.judge = judging.cached_fit({g: c.windows("train") for g, c in self.corpora.items()},
                                            {g: c.windows("val") for g, c in self.corpora.items()})
        except Exception as exc:  # shown on the page; the generators work without the data
            self.loading_error = f"{type(exc).__name__}: {exc}"
        finally:
            self._step(None)
            self.corpora_ready.set()
            self.judge_ready.set()

    def status(self) -> Status:
        """What is loaded: the systems, the real data, the judge, any loading error, and the
        loading step under way (with its seconds so far)."""
        corpora = tuple(CorpusStatus(g, c.source, c.read, c.notes, sum(len(v) for v in c.pieces.values()))
                        for g, c in self.corpora.items()) if self.corpora_ready.is_set() else ()
        judge = ("ready" if self.judge is not None else
                 "training" if not self.judge_ready.is_set() else "unavailable")
        step = self.loading_step
        return Status(tuple(self.systems), self.corpora_ready.is_set(), corpora, judge, self.loading_error, step,
                      time.time() - self.loading_since if step else 0.0)

    def warm_up(self) -> None:
        """One throw-away generation, so the first visitor does not pay plotly's first-figure cost."""
        self.generate(Settings(bars=2))

    # melodies ---------------------------------------------------------------------------------
    def _system(self, name: str) -> systems.System:
        if name not in self.systems:
            raise ValueError(f"the {name!r} system has no checkpoint here (train it: "
                             f"python -m fusion train --preset paper --systems {name})")
        return self.systems[name]

    def test_pieces(self, genre: str) -> list[Melody]:
        """The genre's held-out (test-split) pieces, once the real data has loaded; a clear error
        while it is still loading or when it could not be."""
        if not self.corpora_ready.wait(timeout=30):
            raise ValueError("the real melodies are still being read; please try again in a moment")
        if genre not in self.corpora:
            raise ValueError(f"the real {genre} data could not be loaded: {self.loading_error}")
        return self.corpora[genre].pieces["test"]

    def real_excerpts(self, genre: str, n: int, bars: int, seed: int, beats: float | None = None) -> list[Melody]:
        """``n`` excerpts of ``bars`` bars from held-out (test-split) pieces, bar-aligned, in C;
        ``beats`` long instead when given (the fusions' excerpts: ``bars`` bars of 4/4)."""
        rng = random.Random(seed)
        pieces = [p for p in self.test_pieces(genre) if p.notes]
        out = []
        while len(out) < n:
            piece = rng.choice(pieces)
            length = beats or bars * piece.bar_beats
            starts = [s for s in corpus.window_starts(piece, corpus.Settings(hop_beats=piece.bar_beats))
                      if s + length <= piece.duration + piece.bar_beats] or [0.0]
            w = piece.window(rng.choice(starts), length)
            if len(w.notes) >= 2:
                out.append(w.replace(title=f"{piece.title or piece.source_id} (real {genre})"))
        return out

    def real_fusions(self, kind: str, n: int, bars: int, seed: int) -> list[Melody]:
        """``n`` fusions made of held-out (test-split) real music (:func:`fusion.evaluation.controls.draw`),
        ``bars`` bars of 4/4 as every generated melody: medleys of two excerpts of that length, or
        hybrids of an excerpt's rhythm and a tune of the other genre."""
        def excerpt(genre: str, rng: random.Random) -> Melody:
            return self.real_excerpts(genre, 1, bars, rng.randrange(2**31), beats=4.0 * bars)[0]

        try:
            return controls.draw(kind, excerpt, {g: self.test_pieces(g) for g in controls.GENRES}, n, seed, tries=100)
        except controls.ControlError:
            raise ValueError(f"no real {kind} could be made of {bars} bars; try another length or seed") from None

    def _sample(self, s: Settings, n: int, primer: Melody | None) -> list[Melody]:
        if s.system in REAL:
            if primer is not None:
                raise ValueError("real excerpts cannot continue a melody; choose a generator")
            if REAL[s.system] in controls.GENRES:
                return self.real_excerpts(REAL[s.system], n, s.bars, s.seed)
            return self.real_fusions(REAL[s.system], n, s.bars, s.seed)
        if s.system == MIDPOINT and s.fusion != 0:
            slider = systems.Mixture(MIDPOINT, [self._system(name) for name in ("jazz", MIDPOINT, "folk")],
                                     slider_weights(s.fusion))
            return [m.replace(title=f"{MIDPOINT} slider {s.fusion:+.2f} seed {s.seed} #{i + 1}")
                    for i, m in enumerate(slider.sample(n, bars=s.bars, seed=s.seed, temperature=s.temperature,
                                                        primer=primer))]
        return self._system(s.system).sample(n, bars=s.bars, seed=s.seed, temperature=s.temperature, primer=primer)

    @staticmethod
    def primer_from_midi(source) -> tuple[Melody, int]:
        """A user's MIDI file as a primer: its melody (highest voice), quantized, the last
        :data:`PRIMER_BARS` bars, transposed by music21's key analysis so that its major key (a minor
        key's relative major) is C major, as in the training data. Returns the primer and the semitones to transpose the result back."""
        m = midi.midi_to_melody(source).quantize()
        bar = 4.0  # the models write 4/4
        start = max(0.0, (math.ceil(m.duration / bar) - PRIMER_BARS) * bar)  # the last whole bars, to the end
        m = m.window(start, PRIMER_BARS * bar)
        if not m.notes:
            raise midi.EmptyMidiError("The last bars of this MIDI file have no notes to continue.")
        m = keys.complete_key(m.replace(meter=(4, 4)))
        # the models learned major keys in C: a minor key's relative major goes to C
        tonic = (m.key_tonic + 3) % 12 if m.key_mode == "minor" else m.key_tonic
        shift = keys.shift_to_c(tonic)
        return m.transpose(shift), -shift

    # one answer -------------------------------------------------------------------------------
    def generate(self, settings: Settings, primer: Melody | None = None, shift_back: int = 0,
                 primer_note: str = "", layouts: tuple[str, ...] = ("wide", "narrow")) -> Output:
        """One melody (``settings``), optionally continuing ``primer``: audio, MIDI, piano roll,
        score (MusicXML and SVG in ``layouts`` of :data:`fusion.render.score.LAYOUTS`; none when
        empty), histograms, the judge's verdict and the provenance. In a continuation the piano
        roll and the score mark where the primer's bars end."""
        s = settings.checked()
        t0 = time.perf_counter()
        melody = self._sample(s, 1, primer)[0].transpose(shift_back).replace(tempo=s.tempo)
        t1 = time.perf_counter()
        audio = self.renderer.render(melody, program=s.program, tempo=s.tempo)
        path = self._file(f"{_slug(s)}.mid")
        midi.save_midi(melody, path, program=s.program)
        mp3 = write_mp3(audio, path.with_suffix(".mp3"), self.renderer.sample_rate)
        wav = self.renderer.write_wav(audio, path.with_suffix(".wav"))
        t2 = time.perf_counter()
        boundary = primer_end(primer)
        roll = pianoroll.figure(melody, title=melody.title, boundary=boundary)
        hist = self.histogram_figure([melody], s.system)
        t3 = time.perf_counter()
        opinion = self.verdict([melody])
        t4 = time.perf_counter()
        out = Output([melody], mp3, path, roll, hist, opinion, self.provenance(s, 1, primer_note),
                     wav_path=wav, samples=self.renderer.to_gradio(audio))
        if layouts:
            out.score_svg, out.musicxml_path = self._score(melody, s, boundary, path, layouts)
        out.seconds = {"sample": t1 - t0, "audio_midi": t2 - t1, "figures": t3 - t2, "judge": t4 - t3,
                       "score": time.perf_counter() - t4, "total": time.perf_counter() - t0}
        return out

    @staticmethod
    def _score(melody: Melody, s: Settings, boundary: float | None, midi_path: Path,
               layouts: tuple[str, ...]) -> tuple[str, Path]:
        """The melody engraved (HTML of SVG pages) and its MusicXML file beside ``midi_path``: as
        many bars as were asked for (after the primer's, in a continuation), the last filled with
        rests."""
        length = (boundary or 0.0) + s.bars * melody.bar_beats
        xml = score.musicxml(melody, length=length, boundary=boundary)
        path = midi_path.with_suffix(".musicxml")
        path.write_text(xml, encoding="utf-8")
        return score.html(xml, layouts), path

    def compare(self, settings: Settings) -> list[Output]:
        """The same seed and settings at fusion slider -1, 0 and +1 (the jazz generator, the
        midpoint system :data:`MIDPOINT`, the folk generator), each with its player, piano roll,
        verdict and a narrow score, to hear the slider's two ends and its middle side by side."""
        s = settings.checked()
        return [self.generate(Settings(**{**s.__dict__, "system": MIDPOINT, "fusion": position}), layouts=("narrow",))
                for position in COMPARE]

    def batch(self, settings: Settings, k: int, progress=lambda fraction, desc="": None) -> tuple[Path, list[Melody]]:
        """``k`` melodies as a zip of MIDI and WAV files (seeds ``seed``, ``seed + 1``, ...)."""
        path, outputs = self.batch_outputs(settings, k, progress)
        return path, [out.melodies[0] for out in outputs]

    def batch_outputs(self, settings: Settings, k: int,
                      progress=lambda fraction, desc="": None) -> tuple[Path, list[Output]]:
        """:meth:`batch`, with every melody's own answer (:meth:`generate` without a score: its
        player, piano roll and verdict), to listen to them side by side."""
        s = settings.checked()
        k = check_number("k", k, integer=True)
        path = self._file(f"{_slug(s)}-x{k}.zip")
        outputs = []
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
            for i in range(k):
                progress(i / k, f"melody {i + 1} of {k}")
                one = Settings(**{**s.__dict__, "seed": s.seed + i}) if s.seed + i <= LIMITS["seed"][1] else s
                outputs.append(self.generate(one, layouts=()))
                m = outputs[-1].melodies[0]
                stem = f"{i + 1:02d}-{_slug(one)}"
                z.writestr(f"{stem}.mid", outputs[-1].midi_path.read_bytes())
                z.writestr(f"{stem}.wav", outputs[-1].wav_path.read_bytes())
            z.writestr("README.txt", self.provenance(s, k, "").replace("**", "") + "\n")
        progress(1.0, "done")
        return path, outputs

    # what is shown ----------------------------------------------------------------------------
    def histogram_figure(self, melodies: list[Melody], system: str) -> go.Figure:
        """How often each pitch class (tonic C) and each note length occurs in ``melodies`` (grey
        bars), over real jazz and real folk (lines, held-out test windows) once the real data has
        loaded; the title says when those reference lines are missing and why. Two panels, one
        above the other, so that the labels stay readable on a phone; built in one go (plotly's
        make_subplots and per-trace add_trace cost tens of milliseconds)."""
        pcs, durs = list(features.NPD.tick_labels), list(DURATION_CLASS_NAMES)
        name = registry.short(system)  # the legend's one line on a phone: "Hybrid", not its whole label
        what = "this melody" if len(melodies) == 1 else f"these {len(melodies)} melodies"
        data = [go.Bar(x=pcs, y=features.NPD.histogram(melodies), name=name, marker_color="#7f7f7f"),
                go.Bar(x=durs, y=duration_classes(melodies), name=name, marker_color="#7f7f7f", showlegend=False,
                       xaxis="x2", yaxis="y2")]
        for g, colour in (("jazz", "#b2182b"), ("folk", "#2166ac")):
            if g in self.real_histograms:
                rpc, rdu = self.real_histograms[g]
                data += [go.Scatter(x=pcs, y=rpc, name=f"real {g}", mode="lines+markers", line=dict(color=colour)),
                         go.Scatter(x=durs, y=rdu, name=f"real {g}", mode="lines+markers", line=dict(color=colour),
                                    showlegend=False, xaxis="x2", yaxis="y2")]
        if self.real_histograms:
            title = f"Pitch classes and note lengths of {what}<br>against real jazz and real folk"
        else:
            why = "could not be loaded" if self.loading_error else "is still loading"
            title = f"Pitch classes and note lengths of {what}<br>(no real jazz or folk lines: the real data {why})"
        small = dict(size=11)
        layout = go.Layout(  # the title starts below the page's label of the plot (about 30 px) and its tools
            height=500, margin=dict(l=40, r=10, t=115, b=40), template="plotly_white", bargap=0.2,
            title=dict(text=title, x=0.5, xanchor="center", y=1 - 42 / 500, yanchor="top", font=dict(size=13)),
            legend=dict(orientation="h", x=0, xanchor="left", y=1.02, yanchor="bottom", font=small),
            xaxis=dict(title=dict(text="pitch class (tonic = C)", font=small), tickfont=small, automargin=True),
            yaxis=dict(domain=[0.6, 1.0], tickfont=small, automargin=True),
            xaxis2=dict(anchor="y2", title=dict(text=DURATION_AXIS, font=small), tickfont=small, automargin=True,
                        tickmode="array", tickvals=durs, ticktext=list(DURATION_TICKS)),
            yaxis2=dict(domain=[0.0, 0.36], anchor="x2", tickfont=small, automargin=True))
        return go.Figure(data=data, layout=layout)

    def verdict(self, melodies: list[Melody]) -> str:
        """:func:`verdict` by this demo's judge (or why there is none yet)."""
        return verdict(melodies, self.judge, ready=self.judge_ready.is_set(), error=self.loading_error)

    def provenance(self, s: Settings, n: int, primer_note: str = "") -> str:
        """:func:`provenance` with the training record of the system's checkpoint here."""
        training = None if s.system in REAL else self._system(s.system).config.get("training", {})
        return provenance(s, n, primer_note, training)

    # files ------------------------------------------------------------------------------------
    def _file(self, name: str) -> Path:
        """A fresh path for an output file; files older than an hour are removed."""
        now = time.time()
        for old in self.workdir.iterdir():
            try:
                if now - old.stat().st_mtime > 3600:
                    shutil.rmtree(old) if old.is_dir() else old.unlink()
            except OSError:
                pass
        folder = Path(tempfile.mkdtemp(dir=self.workdir))
        return folder / name


def primer_end(primer: Melody | None) -> float | None:
    """Where a continuation's new bars begin, in beats: the end of the primer's time
    (``Melody.span``, its final rest included: a bar line for the demo's whole-bar primers) on
    the model's grid, where the model continues from; None without a primer."""
    if primer is None or not primer.notes:
        return None
    return primer.quantize().span


def _slug(s: Settings) -> str:
    name = s.system.replace(" ", "-")
    if s.system == MIDPOINT and s.fusion:
        name += f"{s.fusion:+.2f}"
    return f"{name}-seed{s.seed}"
