"""``python -m fusion evaluate``: how well each system fuses jazz and folk, measured.

The sets of melodies that are scored (:func:`melody_sets`):

* every system's samples: ``samples`` melodies of ``bars`` bars of 4/4 (16 beats, the length of a
  training window), seeded;
* reference rows, "real jazz" and "real folk": as many held-out real windows (validation split),
  drawn at random. They show what a perfect jazz or folk generator would score; and "real medley"
  and "real hybrid": as many fusions made of the same split's real music (:mod:`fusion.evaluation.controls`),
  what a fusion of people's own lines scores;
* the genres themselves, X_A (jazz) and X_B (folk): all windows of the test split.

What is computed for each set:

1. **Table I** (:func:`score_table` with the note features DD and NPD): EUD and EM distances of
   the set's histogram to X_A's and X_B's, Diff, Ratio and Balance (:mod:`fusion.evaluation.distances`);
2. **sequential measures**: the same for interval, pitch-class-transition and IOI-transition
   histograms, and **novelty** (:func:`novelty_table`), the share of 8-note n-grams copied from
   the training pieces;
3. **the automatic judge** (:func:`judge_table`): jazz / folk / mixture / neither shares, the
   Fusion Level of the paper's formula and the mean P(jazz); and the **per-melody fusion
   measures**: the share of melodies with 0.2 <= P(jazz) <= 0.8 (``between``), the mixtures split
   by kind (``mixture_time``: the two halves judged of different genres, a medley;
   ``mixture_aspect``: pitch and rhythm judged of different genres), and ``fused_aspect``, the
   share of melodies (not "neither") fused *in aspect*: pitch and rhythm of different genres, or
   the whole melody's P(jazz) between 0.25 and 0.75.

Intervals are 95% bootstrap intervals (``scipy.stats.bootstrap``, bias-corrected and accelerated,
BCa) over melodies: the set's melodies *and* the reference windows of X_A and X_B are resampled
with replacement, so an interval carries the uncertainty of both sides of a distance. BCa, not the
plain percentile interval, because a distance between histograms is biased upwards when fewer
melodies make a histogram noisier: percentile intervals of resampled sets then sit above, and
may exclude, the value on the full sets, which is the point estimate reported.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from fusion import registry
from fusion.evaluation import controls
from fusion.data import corpus
from fusion import features
from fusion.evaluation import distances, judge as judging, novelty, paper
from fusion.model import systems
from fusion.melody import Melody

GENRE_REFERENCES = registry.GENRE_CONTROLS  # "real jazz", "real folk"
REFERENCES = registry.REAL  # those, then the fusions made of real music ("real medley", "real hybrid")
ORDER = tuple(s.name for s in registry.SPECS)
BASELINES = registry.BASELINES
SCORE_COLUMNS = ["system", "feature", "metric", "d_jazz", "d_folk", "diff", "ratio", "balance",
                 "ci_low", "ci_high", "balance_ci_low", "balance_ci_high", "n_melodies"]


@dataclass(frozen=True)
class Options:
    samples: int = 500
    seed: int = 0
    bootstrap: int = 1000
    bars: int = 4
    systems: tuple[str, ...] = registry.TRAINED
    checkpoints: str | None = None
    judge_windows: int | None = None  # train the judge on at most this many windows per genre
    window_beats: float = 16.0
    references: bool = True  # score the real controls' rows too (the seed study reads only its systems')
    interval: str = "BCa"  # scipy.stats.bootstrap method: 'BCa' (bias-corrected) or 'percentile'

    @classmethod
    def quick(cls, **changes) -> "Options":
        """A few samples and resamples: the whole evaluation in seconds (for tests)."""
        return cls(**{"samples": 40, "bootstrap": 60, "judge_windows": 1500, "interval": "percentile", **changes})


@dataclass
class Data:
    """The real windows the evaluation needs, per genre and split."""

    windows: dict[tuple[str, str], list[Melody]]
    train_pieces: dict[str, list[Melody]]
    pieces: dict[tuple[str, str], list[Melody]] = field(default_factory=dict)  # (genre, split) -> pieces

    @classmethod
    def load(cls, window_beats: float = 16.0) -> "Data":
        settings = corpus.Settings(window_beats=window_beats)
        corpora = {g: corpus.load(g, settings) for g in ("jazz", "folk")}
        return cls(windows={(g, s): c.windows(s) for g, c in corpora.items() for s in corpus.SPLITS},
                   train_pieces={g: c.pieces["train"] for g, c in corpora.items()},
                   pieces={(g, s): c.pieces[s] for g, c in corpora.items() for s in corpus.SPLITS})

    def references(self) -> dict[str, list[Melody]]:
        """X_A and X_B: every test window of each genre."""
        return {"jazz": self.windows["jazz", "test"], "folk": self.windows["folk", "test"]}


def _draw(melodies: list[Melody], n: int, seed: int) -> list[Melody]:
    rng = np.random.default_rng(seed)
    return [melodies[i] for i in rng.choice(len(melodies), size=min(n, len(melodies)), replace=False)]


def reference_sets(data: Data, split: str, n: int, seed: int) -> dict[str, list[Melody]]:
    """The real controls (:data:`REFERENCES`) from ``split``: ``n`` windows of each genre (fewer if
    the split is smaller), drawn without replacement, then ``n`` medleys and ``n`` hybrids made of
    the split's windows and pieces (:func:`fusion.evaluation.controls.draw`, seeded with ``seed``)."""
    out = {}
    for name in REFERENCES:
        kind = registry.CONTROL_KINDS[name]
        if kind in controls.GENRES:
            out[name] = _draw(data.windows[kind, split], n, seed)
        else:
            out[name] = controls.draw(kind, {g: data.windows[g, split] for g in controls.GENRES},
                                      {g: data.pieces[g, split] for g in controls.GENRES}, n, seed)
    return out


def melody_sets(options: Options, data: Data) -> dict[str, list[Melody]]:
    """Each system's samples and the held-out real reference rows (module docstring).

    Parameters
    ----------
    options : Options
        ``systems``, ``samples``, ``bars`` (of 4/4), ``seed`` and ``checkpoints`` are used.
    data : Data
        The real windows; the reference rows are drawn from the validation split.

    Returns
    -------
    dict of str to list of Melody
        System name -> its ``samples`` melodies, then the real controls from the validation split
        (:func:`reference_sets`): ``"real jazz"`` and ``"real folk"``, as many validation windows
        (fewer if the split is smaller), drawn without replacement, and ``"real medley"`` and
        ``"real hybrid"``, as many fusions made of the validation split's music.

    Raises
    ------
    ValueError
        A system name is not a trained system of the registry.
    FileNotFoundError
        A system has no checkpoint.
    """
    out = {}
    for name in options.systems:
        out[name] = systems.load_generator(name, options.checkpoints).sample(
            options.samples, bars=options.bars, seed=options.seed)
    if not options.references:
        return out
    return {**out, **reference_sets(data, "val", options.samples, options.seed)}


# 1. and 2. distances -----------------------------------------------------------------------------
def _stacked_counts(melodies, feats) -> np.ndarray:
    return np.concatenate([f.matrix(melodies) for f in feats], axis=1)


def _histograms(counts: np.ndarray, feats, draws: np.ndarray) -> list[np.ndarray]:
    """Per feature, the normalised histograms of the resampled sets: ``draws`` holds melody
    indices with shape (..., n) (one row per bootstrap resample)."""
    draws = np.asarray(draws)
    flat = draws.reshape(-1, draws.shape[-1])
    weights = np.stack([np.bincount(row, minlength=len(counts)) for row in flat]).astype(float)
    total = (weights @ counts).reshape(draws.shape[:-1] + (counts.shape[1],))
    out, start = [], 0
    for f in feats:
        part = total[..., start:start + f.bins]
        out.append(part / np.maximum(part.sum(axis=-1, keepdims=True), 1e-12))
        start += f.bins
    return out


def _scores(feats, h_f, h_a, h_b) -> np.ndarray:
    """d_jazz, d_folk, diff, ratio, balance for every (feature, metric), stacked on axis 0."""
    rows = []
    for f, f_, a, b in zip(feats, h_f, h_a, h_b):
        for metric in distances.metrics_of(f):
            d_a, d_b, d_ab = distances.fusion_scores(f, metric, f_, a, b)
            rows += [d_a, d_b, distances.diff(d_a, d_b, d_ab), distances.ratio(d_a, d_b, d_ab),
                     distances.balance(d_a, d_b, d_ab)]
    return np.stack(rows)


def _interval(data, statistic, resamples: int, method: str, seed: int):
    """95% bootstrap interval (low, high) of every output of ``statistic`` over ``data``. Where
    BCa is undefined (a statistic that does not vary under resampling, e.g. a share of 0), the
    percentile interval of the same resamples is used (a single value when they are all equal)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        boot = stats.bootstrap(data, statistic, n_resamples=resamples, method=method, vectorized=True, batch=50,
                               rng=np.random.default_rng(seed))
    low, high = (np.array(v, float) for v in boot.confidence_interval)
    bad = np.isnan(low) | np.isnan(high)
    if bad.any():
        dist = np.asarray(boot.bootstrap_distribution).reshape(len(low), -1)
        low[bad] = np.percentile(dist[bad], 2.5, axis=1)
        high[bad] = np.percentile(dist[bad], 97.5, axis=1)
    return low, high


def score_table(sets: dict[str, list[Melody]], refs: dict[str, list[Melody]], feats, resamples: int,
                seed: int = 0, method: str = "BCa", log=lambda msg: None) -> pd.DataFrame:
    """Distances, Diff, Ratio and Balance of every set against X_A = ``refs['jazz']`` and X_B =
    ``refs['folk']`` for ``feats``, with bootstrap intervals for Ratio and Balance.

    Parameters
    ----------
    sets : dict of str to list of Melody
        The sets to score, by name (:func:`melody_sets`).
    refs : dict of str to list of Melody
        ``{"jazz": X_A, "folk": X_B}`` (:meth:`Data.references`).
    feats : sequence of features
        The histogram features (e.g. :data:`fusion.features.NOTE_FEATURES`: DD, NPD);
        each is scored with its metrics (:func:`fusion.evaluation.distances.metrics_of`).
    resamples : int
        Bootstrap resamples.
    seed : int, optional
        Seed of the bootstrap.
    method : {"BCa", "percentile"}, optional
        ``scipy.stats.bootstrap`` interval method (95% intervals).
    log : callable, optional
        Called with a progress line per set.

    Returns
    -------
    pandas.DataFrame
        One row per (set, feature, metric) with the columns :data:`SCORE_COLUMNS`: the
        distances ``d_jazz`` and ``d_folk`` (in the metric's units), ``diff``, ``ratio`` and
        ``balance``, the intervals ``ci_low``/``ci_high`` (Ratio) and
        ``balance_ci_low``/``balance_ci_high``, and ``n_melodies``.
    """
    ca, cb = _stacked_counts(refs["jazz"], feats), _stacked_counts(refs["folk"], feats)
    rows = []
    for name, melodies in sets.items():
        t0 = time.time()
        cf = _stacked_counts(melodies, feats)

        def statistic(i, a, b, axis=-1):
            return _scores(feats, _histograms(cf, feats, i), _histograms(ca, feats, a), _histograms(cb, feats, b))

        full = [np.arange(len(c)) for c in (cf, ca, cb)]
        point = statistic(*full)
        low, high = _interval(full, statistic, resamples, method, seed)
        k = 0
        for f in feats:
            for metric in distances.metrics_of(f):
                d_a, d_b, dif, rat, bal = point[k:k + 5]
                rows.append({"system": name, "feature": f.name, "metric": metric, "d_jazz": d_a, "d_folk": d_b,
                             "diff": dif, "ratio": rat, "balance": bal, "ci_low": low[k + 3], "ci_high": high[k + 3],
                             "balance_ci_low": low[k + 4], "balance_ci_high": high[k + 4],
                             "n_melodies": len(melodies)})
                k += 5
        log(f"  {', '.join(f.name for f in feats)}: {name} ({time.time() - t0:.1f} s)")
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def with_paper(table: pd.DataFrame) -> pd.DataFrame:
    """Table I with the paper's printed Ratio beside ours (where the paper has one)."""
    out = table.copy()
    out["paper_ratio"] = [paper.TABLE_I_RATIO.get(s, {}).get((f, m), np.nan)
                          for s, f, m in zip(out.system, out.feature, out.metric)]
    return out


# 2b. novelty ---------------------------------------------------------------------------------------
def novelty_table(sets: dict[str, list[Melody]], index: novelty.NgramIndex, resamples: int,
                  seed: int = 0, method: str = "BCa") -> pd.DataFrame:
    """Per set: the share of its 8-note n-grams found verbatim in the training pieces and the
    share of its melodies with at least one such n-gram, with bootstrap intervals.

    Parameters
    ----------
    sets : dict of str to list of Melody
        The sets to measure, by name.
    index : novelty.NgramIndex
        The n-grams of the training pieces.
    resamples : int
        Bootstrap resamples (over melodies).
    seed : int, optional
        Seed of the bootstrap.
    method : {"BCa", "percentile"}, optional
        ``scipy.stats.bootstrap`` interval method (95% intervals).

    Returns
    -------
    pandas.DataFrame
        One row per set: ``ngrams`` (count), ``copied_share`` (fraction 0-1 of the n-grams,
        with ``ci_low``/``ci_high``), ``melodies_with_copy`` (fraction 0-1 of the melodies, with
        ``melodies_ci_low``/``melodies_ci_high``) and ``n_melodies``.
    """
    rows = []
    for name, melodies in sets.items():
        found = np.array([index.copied(m) for m in melodies], float)
        copied, total = found[:, 0], found[:, 1]

        def statistic(i, axis=-1):
            return np.stack([copied[i].sum(axis=-1) / np.maximum(total[i].sum(axis=-1), 1),
                             (copied[i] > 0).mean(axis=-1)])

        idx = np.arange(len(melodies))
        point = statistic(idx)
        low, high = _interval((idx,), statistic, resamples, method, seed)
        rows.append({"system": name, "ngrams": int(total.sum()), "copied_share": point[0], "ci_low": low[0],
                     "ci_high": high[0], "melodies_with_copy": point[1], "melodies_ci_low": low[1],
                     "melodies_ci_high": high[1], "n_melodies": len(melodies)})
    return pd.DataFrame(rows)


# 3. the automatic judge ----------------------------------------------------------------------------
def fit_judge(data: Data, options: Options) -> judging.Judge:
    """The judge, trained on the training windows (at most ``options.judge_windows`` per genre)."""
    train = {g: data.windows[g, "train"] for g in ("jazz", "folk")}
    val = {g: data.windows[g, "val"] for g in ("jazz", "folk")}
    if options.judge_windows:
        train = {g: _draw(w, options.judge_windows, options.seed) for g, w in train.items()}
        return judging.Judge.fit(train, val, seed=options.seed)
    return judging.cached_fit(train, val, seed=options.seed)  # the same judge the app shows


def melody_flags(verdicts: list[dict]) -> np.ndarray:
    """Per verdict, 0/1 flags (rows) for :data:`FLAGS`: judged mixture, neither, P(jazz) in
    [0.2, 0.8], a mixture in time (halves disagree), a mixture in aspect (pitch and rhythm
    disagree), and fused in aspect (not neither; pitch and rhythm disagree or P(jazz) in [0.25, 0.75])."""
    rows = []
    for v in verdicts:
        o, p = v["opinions"], v["p_jazz"]
        mixture, neither = v["label"] == "mixture", v["label"] == "neither"
        halves = [o["first half"], o["second half"]]
        time_split = None not in halves and (halves[0] >= 0.5) != (halves[1] >= 0.5)
        aspect_split = (o["pitch"] >= 0.5) != (o["rhythm"] >= 0.5)
        rows.append([mixture, neither, 0.2 <= p <= 0.8, mixture and time_split, mixture and aspect_split,
                     not neither and (aspect_split or 0.25 <= p <= 0.75)])
    return np.array(rows, float).reshape(len(verdicts), len(FLAGS))


FLAGS = ("mixture", "neither", "between", "mixture_time", "mixture_aspect", "fused_aspect")


def judge_table(sets: dict[str, list[Melody]], judge: judging.Judge, resamples: int, seed: int = 0,
                method: str = "BCa") -> pd.DataFrame:
    """The automatic Table II: label shares (percent), Fusion Level (percent, paper's formula) and
    mean P(jazz), and the per-melody fusion measures of :func:`melody_flags` (percent), with
    bootstrap intervals over melodies.

    The Fusion Level is ``1 - (|j - f| + n) / (j + f + m + n)`` with j, f, m, n the shares of
    melodies judged jazz, folk, mixture and neither.

    Parameters
    ----------
    sets : dict of str to list of Melody
        The sets to judge, by name.
    judge : judging.Judge
        The fitted automatic judge.
    resamples : int
        Bootstrap resamples (over melodies).
    seed : int, optional
        Seed of the bootstrap.
    method : {"BCa", "percentile"}, optional
        ``scipy.stats.bootstrap`` interval method (95% intervals).

    Returns
    -------
    pandas.DataFrame
        One row per set: ``n_melodies``; ``jazz``, ``folk``, ``mixture``, ``neither`` (percent);
        ``fl`` with ``fl_ci_low``/``fl_ci_high`` (percent) and ``paper_fl`` (the paper's value or
        NaN); ``p_jazz`` (probability 0-1) with its interval; ``mixture_share``,
        ``neither_share``, ``between``, ``mixture_time``, ``mixture_aspect``, ``fused_aspect``
        (percent), each with ``_ci_low``/``_ci_high``.
    """
    rows = []
    for name, melodies in sets.items():
        verdicts = judge.judge(melodies)
        onehot = np.array([[v["label"] == lab for lab in paper.LABELS] for v in verdicts], float)
        pj = np.array([v["p_jazz"] for v in verdicts])
        flags = melody_flags(verdicts)

        def statistic(i, axis=-1):
            share = onehot[i].mean(axis=-2)  # (..., 4)
            j, f, m, n = np.moveaxis(share, -1, 0)
            return np.concatenate([np.stack([1 - (np.abs(j - f) + n) / (j + f + m + n), pj[i].mean(axis=-1)]),
                                   np.moveaxis(flags[i].mean(axis=-2), -1, 0)])

        idx = np.arange(len(melodies))
        share = onehot.mean(axis=0)
        point = statistic(idx)
        low, high = _interval((idx,), statistic, resamples, method, seed)
        row = {"system": name, "n_melodies": len(melodies)}
        row.update({lab: 100 * s for lab, s in zip(paper.LABELS, share)})
        row.update({"fl": 100 * point[0], "fl_ci_low": 100 * low[0], "fl_ci_high": 100 * high[0],
                    "p_jazz": point[1], "p_jazz_ci_low": low[1], "p_jazz_ci_high": high[1],
                    "paper_fl": paper.TABLE_II.get(name, {}).get("fl", np.nan)})
        for k, flag in enumerate(FLAGS):
            key = "mixture_share" if flag == "mixture" else ("neither_share" if flag == "neither" else flag)
            row.update({key: 100 * point[2 + k], f"{key}_ci_low": 100 * low[2 + k],
                        f"{key}_ci_high": 100 * high[2 + k]})
        rows.append(row)
    return pd.DataFrame(rows)


# all of it ------------------------------------------------------------------------------------------
@dataclass
class Results:
    options: Options
    table1: pd.DataFrame
    sequential: pd.DataFrame
    novelty: pd.DataFrame
    judge: pd.DataFrame
    judge_accuracy: dict
    histograms: dict  # feature -> set name (and 'X_A', 'X_B') -> normalised histogram
    facts: dict = field(default_factory=dict)


def evaluate(options: Options, data: Data | None = None, log=print) -> Results:
    """Run the whole evaluation (module docstring).

    Parameters
    ----------
    options : Options
        Samples per system, bars, seed, bootstrap resamples and interval method, systems,
        checkpoint folder, judge training size and window length in beats.
    data : Data, optional
        The real windows (default: loaded with ``options.window_beats``).
    log : callable, optional
        Called with progress lines (default ``print``).

    Returns
    -------
    Results
        Table I (with the paper's Ratio), the sequential measures, novelty, the automatic Table
        II (with the judge's own rows of the real controls drawn from the test split), the
        judge's accuracy on test windows, the normalised note-feature histograms of every set and
        of X_A and X_B, and ``facts`` (options, timings in seconds, reference sizes, n-gram index
        size, the judge's facts and threshold).

    Raises
    ------
    ValueError
        A system name is not a trained system of the registry.
    FileNotFoundError
        A system has no checkpoint.
    """
    t0 = time.time()
    timings = {}
    data = data or Data.load(options.window_beats)
    timings["data"] = time.time() - t0
    t = time.time()
    sets = melody_sets(options, data)
    timings["sampling"] = time.time() - t
    refs = data.references()
    log(f"scoring {len(sets)} sets of {options.samples} melodies against {len(refs['jazz'])} jazz and "
        f"{len(refs['folk'])} folk test windows ({options.bootstrap} bootstrap resamples)")
    t = time.time()
    table1 = with_paper(score_table(sets, refs, features.NOTE_FEATURES, options.bootstrap, options.seed,
                                        options.interval, log))
    timings["table1"] = time.time() - t
    t = time.time()
    sequential = score_table(sets, refs, features.SEQUENTIAL_FEATURES, options.bootstrap, options.seed,
                             options.interval, log)
    timings["sequential"] = time.time() - t
    t = time.time()
    index = novelty.NgramIndex([m for g in ("jazz", "folk") for m in data.train_pieces[g]])
    nov = novelty_table(sets, index, options.bootstrap, options.seed, options.interval)
    timings["novelty"] = time.time() - t
    t = time.time()
    judge = fit_judge(data, options)
    accuracy = judge.validate({g: data.windows[g, "test"] for g in ("jazz", "folk")}, seed=options.seed)
    judged = dict(sets)
    if options.references:  # the real controls' rows from the test split, the judge's own held-out data
        judged.update(reference_sets(data, "test", options.samples, options.seed))
    jt = judge_table(judged, judge, options.bootstrap, options.seed, options.interval)
    timings["judge"] = time.time() - t
    hists = {f.name: {**{name: f.histogram(m) for name, m in sets.items()},
                      "X_A": f.histogram(refs["jazz"]), "X_B": f.histogram(refs["folk"])}
             for f in features.NOTE_FEATURES}
    facts = {"options": asdict(options), "timings_s": {k: round(v, 1) for k, v in timings.items()},
             "references": {g: len(m) for g, m in refs.items()}, "ngram_index": len(index),
             "judge": {**judge.facts, "threshold": judge.threshold}}
    return Results(options, table1, sequential, nov, jt, accuracy, hists, facts)
