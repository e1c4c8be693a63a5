"""The automatic listening judge: is a melody pure jazz, pure folk, a mixture of both, or neither?

It stands in for the crowd of Table II when no crowd is at hand (and beside it when one is).

* **How jazz-like.** A logistic-regression classifier (scikit-learn, classes weighted to balance
  the genres) on :func:`describe` features of the whole melody: pitch-class, duration-class,
  interval and IOI-class histograms and a few summary numbers (notes per beat, share of time in
  rests, pitch spread and range, share of steps, repeats and leaps). Trained on the real training
  windows of both genres; its accuracy is measured on the test windows (pieces it never saw). Its
  P(jazz) is the judge's continuous verdict.
* **Pure or mixed.** A melody can mix the genres in time (jazz bars, then folk bars) or in aspect
  (folk pitches on a jazz rhythm). So four *partial* opinions are asked: a classifier that sees only
  the pitch features, one that sees only the rhythm features, and a classifier of half-windows on
  each half of the melody. "jazz" when all four say jazz (P >= 1/2), "folk" when all four say folk,
  otherwise "mixture". One whole-melody classifier alone called three quarters of half-jazz,
  half-folk splices "jazz"; with the four opinions most known mixtures are called "mixture"
  (:meth:`Judge.validate` measures it on constructed splices and hybrids of real test windows).
* **Neither.** An out-of-distribution score: the mean Euclidean distance, in standardised feature
  space, to the k = 10 nearest real training windows (a k-nearest-neighbour detector, as in Sun et
  al., ICML 2022). The threshold is the 95th percentile of that score on held-out validation
  windows (equally many of each genre), so 5% of real music is called "neither" by construction:
  the usual "95% true-positive rate" operating point. Checked before the other labels.

The rules were fixed on real and constructed melodies only (``docs/method.md``), never on a
system's output.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib.metadata import version

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fusion.data import cache
from fusion import features
from fusion.melody import TICKS_PER_BEAT, Melody, Note

JUDGE_VERSION = 2
OOD_QUANTILE = 0.95
NEIGHBOURS = 10
LABELS = ("jazz", "folk", "mixture", "neither")


def describe(melody: Melody) -> np.ndarray:
    """The judge's view of one melody: 12 + 10 + 25 + 10 histogram shares and 8 numbers."""
    ticks = melody.to_ticks()
    if not ticks:
        raise ValueError("the judge needs a melody with at least one note")

    def share(counts):
        total = counts.sum()
        return counts / total if total else counts

    pitches = np.array([p for p, _, _ in ticks], float)
    npd = share(features.NPD.counts(melody))
    dur = share(np.bincount([features.ioi_class(d) for _, _, d in ticks], minlength=10).astype(float))
    ioi = share(np.bincount([features.ioi_class(b[1] - a[1]) for a, b in zip(ticks, ticks[1:])],
                            minlength=10).astype(float))
    steps = np.diff(pitches)
    interval = share(features.INTERVAL.counts(melody))
    span = (ticks[-1][1] + ticks[-1][2] - ticks[0][1]) / TICKS_PER_BEAT
    sounding = sum(d for _, _, d in ticks) / TICKS_PER_BEAT
    numbers = [len(ticks) / max(span, 1.0), 1.0 - sounding / max(span, 1e-9), pitches.std(),
               pitches.max() - pitches.min(),
               np.mean(np.abs(steps)) if len(steps) else 0.0,
               np.mean(np.abs(steps) <= 2) if len(steps) else 0.0,
               np.mean(steps == 0) if len(steps) else 0.0,
               np.mean(np.abs(steps) > 7) if len(steps) else 0.0]
    return np.concatenate([npd, dur, interval, ioi, numbers])


def describe_all(melodies) -> np.ndarray:
    return np.stack([describe(m) for m in melodies])


#: Columns of :func:`describe` by aspect: pitch (pitch classes, intervals, pitch spread, range,
#: mean step, steps, repeats, leaps) and rhythm (duration and IOI classes, density, rests).
PITCH_COLUMNS = [*range(0, 12), *range(22, 47), 59, 60, 61, 62, 63, 64]
RHYTHM_COLUMNS = [*range(12, 22), *range(47, 57), 57, 58]


def halves(melody: Melody) -> tuple[Melody | None, Melody | None]:
    """The melody's first and second half (split at the middle of its whole bars), each starting
    at 0; ``None`` for a half with fewer than two notes."""
    bar = melody.bar_beats
    middle = np.ceil(max(melody.duration, bar) / bar) * bar / 2
    out = []
    for start in (0.0, middle):
        part = melody.window(start, middle)
        out.append(part if len(part.notes) >= 2 else None)
    return out[0], out[1]


def splice(first: Melody, second: Melody) -> Melody:
    """A known mixture in time: ``first``'s first half followed by ``second``'s second half."""
    a, _ = halves(first)
    _, b = halves(second)
    bar = first.bar_beats
    middle = np.ceil(max(first.duration, bar) / bar) * bar / 2
    notes = list(a.notes if a else ()) + [Note(n.pitch, n.onset + middle, n.duration) for n in (b.notes if b else ())]
    return Melody.from_notes([(n.pitch, n.onset, n.duration) for n in notes])


def hybrid(pitches_of: Melody, rhythm_of: Melody) -> Melody:
    """A known mixture in aspect: the pitches of one melody on the onsets and durations of another."""
    k = min(len(pitches_of.notes), len(rhythm_of.notes))
    return Melody(notes=tuple(Note(pitches_of.notes[i].pitch, rhythm_of.notes[i].onset, rhythm_of.notes[i].duration)
                              for i in range(k)))


def _classifier(x: np.ndarray, y: np.ndarray):
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000)).fit(x, y)


def _p_jazz(model, x: np.ndarray) -> np.ndarray:
    return model.predict_proba(x)[:, list(model.classes_).index(1.0)]


@dataclass
class Judge:
    """A fitted judge (see module docstring); ``fit`` builds one from the real corpora."""

    whole: object  # scaler + logistic regression on all features of the whole melody
    pitch: object  # ... on the pitch features only
    rhythm: object  # ... on the rhythm features only
    half: object  # ... on all features of half-windows
    scaler: StandardScaler
    neighbours: NearestNeighbors
    threshold: float
    facts: dict = field(default_factory=dict)

    @classmethod
    def fit(cls, train: dict[str, list[Melody]], val: dict[str, list[Melody]], seed: int = 0,
            reference_per_genre: int = 5000) -> "Judge":
        """Fit on ``train`` windows ({'jazz': [...], 'folk': [...]}) and set the "neither"
        threshold on ``val`` windows."""
        rng = np.random.default_rng(seed)
        X = {g: describe_all(train[g]) for g in ("jazz", "folk")}
        xs = np.concatenate([X["jazz"], X["folk"]])
        ys = np.concatenate([np.ones(len(X["jazz"])), np.zeros(len(X["folk"]))])
        parts = [(h, g) for g in ("jazz", "folk") for m in train[g] for h in halves(m) if h is not None]
        xh = describe_all([h for h, _ in parts])
        yh = np.array([g == "jazz" for _, g in parts], float)
        scaler = StandardScaler().fit(xs)
        ref = np.concatenate([X[g][rng.permutation(len(X[g]))[:reference_per_genre]] for g in ("jazz", "folk")])
        judge = cls(whole=_classifier(xs, ys), pitch=_classifier(xs[:, PITCH_COLUMNS], ys),
                    rhythm=_classifier(xs[:, RHYTHM_COLUMNS], ys), half=_classifier(xh, yh), scaler=scaler,
                    neighbours=NearestNeighbors(n_neighbors=NEIGHBOURS).fit(scaler.transform(ref)),
                    threshold=np.inf)
        k = min(len(val["jazz"]), len(val["folk"]))
        held = [m for g in ("jazz", "folk") for m in (val[g][i] for i in rng.permutation(len(val[g]))[:k])]
        judge.threshold = float(np.quantile(judge.ood_scores(describe_all(held)), OOD_QUANTILE))
        judge.facts = {"train_windows": {g: len(X[g]) for g in X}, "train_halves": len(parts),
                       "reference_windows": len(ref), "threshold_windows": len(held), "version": JUDGE_VERSION,
                       "sklearn": version("scikit-learn")}
        return judge

    def p_jazz(self, x: np.ndarray) -> np.ndarray:
        """P(jazz) of the whole-melody classifier for described melodies ``x``."""
        return _p_jazz(self.whole, x)

    def ood_scores(self, x: np.ndarray) -> np.ndarray:
        dist, _ = self.neighbours.kneighbors(self.scaler.transform(x))
        return dist.mean(axis=1)

    def opinions(self, melodies, x: np.ndarray | None = None) -> np.ndarray:
        """P(jazz) of the four partial opinions per melody: pitch, rhythm, first half, second half
        (NaN for a half with fewer than two notes); shape (len(melodies), 4)."""
        x = describe_all(melodies) if x is None else x
        out = np.full((len(melodies), 4), np.nan)
        out[:, 0] = _p_jazz(self.pitch, x[:, PITCH_COLUMNS])
        out[:, 1] = _p_jazz(self.rhythm, x[:, RHYTHM_COLUMNS])
        split = [halves(m) for m in melodies]
        for k in (0, 1):
            rows = [i for i, h in enumerate(split) if h[k] is not None]
            if rows:
                out[rows, 2 + k] = _p_jazz(self.half, describe_all([split[i][k] for i in rows]))
        return out

    def judge(self, melodies, x: np.ndarray | None = None) -> list[dict]:
        """One verdict per melody: ``label`` (jazz / folk / mixture / neither), ``p_jazz`` (whole
        melody), the four partial ``opinions`` and the out-of-distribution ``ood`` score (with the
        ``threshold`` it was compared to)."""
        x = describe_all(melodies) if x is None else x
        ops = self.opinions(melodies, x)
        return [{"label": label_of(o, d, self.threshold), "p_jazz": float(p), "ood": float(d),
                 "opinions": {name: (None if np.isnan(v) else float(v)) for name, v in zip(OPINIONS, o)},
                 "threshold": self.threshold}
                for p, d, o in zip(self.p_jazz(x), self.ood_scores(x), ops)]

    def labels(self, melodies, x: np.ndarray | None = None) -> dict[str, float]:
        """The share of each label among ``melodies`` (``x``: their :func:`describe_all`, if known)."""
        got = [v["label"] for v in self.judge(melodies, x)]
        return {lab: got.count(lab) / len(got) for lab in LABELS}

    def validate(self, test: dict[str, list[Melody]], n_mixtures: int = 300, seed: int = 0) -> dict:
        """How far the judge can be trusted, on real test windows (``test``: {'jazz': [...],
        'folk': [...]}, pieces it never saw): jazz-vs-folk accuracy of the whole-melody classifier
        (overall, balanced, per genre); the four labels on real music; and the labels on known
        mixtures made of test windows: ``n_mixtures`` splices (half jazz then half folk, or the
        reverse) and as many hybrids (one genre's pitches on the other's rhythm)."""
        out = {"windows": {}, "per_genre": {}, "labels": {}}
        correct = total = 0
        for g in ("jazz", "folk"):
            x = describe_all(test[g])
            p = self.p_jazz(x)
            right = (p >= 0.5) if g == "jazz" else (p < 0.5)
            out["windows"][g] = len(p)
            out["per_genre"][g] = float(right.mean())
            correct += int(right.sum())
            total += len(p)
            out["labels"][g] = self.labels(test[g], x)
        out["accuracy"] = correct / total
        out["balanced_accuracy"] = float(np.mean(list(out["per_genre"].values())))
        rng = np.random.default_rng(seed)
        pick = lambda g: test[g][rng.integers(len(test[g]))]  # noqa: E731
        spliced = [splice(pick("jazz"), pick("folk")) if i % 2 == 0 else splice(pick("folk"), pick("jazz"))
                   for i in range(n_mixtures)]
        hybrids = [hybrid(pick("folk"), pick("jazz")) if i % 2 == 0 else hybrid(pick("jazz"), pick("folk"))
                   for i in range(n_mixtures)]
        out["labels"]["splices"] = self.labels(spliced)
        out["labels"]["hybrids"] = self.labels(hybrids)
        out["between"] = self.between(describe_all(test["jazz"]), describe_all(test["folk"]))
        return out

    def between(self, jazz: np.ndarray, folk: np.ndarray) -> dict[str, dict[str, float]]:
        """Where the judge's boundaries lie between the genres, in its own feature space.

        For the whole-melody, pitch-only and rhythm-only classifiers: P(jazz) at the points
        ``t * mean(jazz) + (1 - t) * mean(folk)`` of the segment between the genres' mean feature
        vectors (t = 0.25, 0.5, 0.75), the ``t`` at which P(jazz) crosses 1/2 (bisection; 0.5 for a
        boundary halfway between the means), and the share called jazz among feature vectors
        averaged from the i-th jazz and the i-th folk melody (each half of each genre).

        Parameters
        ----------
        jazz, folk : np.ndarray
            :func:`describe_all` of real melodies of each genre.
        """
        k = min(len(jazz), len(folk))
        pairs = (jazz[:k] + folk[:k]) / 2
        out = {}
        for name, model, cols in (("whole", self.whole, slice(None)), ("pitch", self.pitch, PITCH_COLUMNS),
                                  ("rhythm", self.rhythm, RHYTHM_COLUMNS)):
            def at(t: float) -> float:
                return float(_p_jazz(model, (t * jazz.mean(0) + (1 - t) * folk.mean(0))[None][:, cols])[0])

            lo, hi = 0.0, 1.0
            for _ in range(30):  # P(jazz) rises along the segment (logistic in t)
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if at(mid) < 0.5 else (lo, mid)
            out[name] = {"p_jazz_at_0.25": at(0.25), "p_jazz_at_0.5": at(0.5), "p_jazz_at_0.75": at(0.75),
                         "crossing_t": (lo + hi) / 2, "pairs_called_jazz": float(np.mean(_p_jazz(model, pairs[:, cols]) >= 0.5))}
        return out


OPINIONS = ("pitch", "rhythm", "first half", "second half")


def cached_fit(train: dict[str, list[Melody]], val: dict[str, list[Melody]], seed: int = 0) -> Judge:
    """:meth:`Judge.fit` on these windows, kept in the on-disk cache (``.cache/judge-*.pkl``),
    keyed by a digest of the windows, the seed, :data:`JUDGE_VERSION` and scikit-learn's version:
    the app and ``python -m fusion evaluate`` fit it once per machine (about 45 s)."""
    digest = hashlib.sha256()
    for split, windows in (("train", train), ("val", val)):
        for g in ("jazz", "folk"):
            for w in windows[g]:
                digest.update(f"{split}|{g}|{w.source_id}|{w.extra.get('window_start')}|{len(w.notes)}\n".encode())
    return cache.cached("judge", [], lambda: Judge.fit(train, val, seed=seed), version=JUDGE_VERSION,
                        sklearn=version("scikit-learn"), windows=digest.hexdigest(), seed=seed)


def label_of(opinions, ood: float, threshold: float) -> str:
    """The judge's label from the four partial opinions (P(jazz) each, NaN = no opinion) and the
    out-of-distribution score (module docstring)."""
    if ood > threshold:
        return "neither"
    votes = [p >= 0.5 for p in opinions if p is not None and not np.isnan(p)]
    if votes and all(votes):
        return "jazz"
    if not any(votes):
        return "folk"
    return "mixture"
