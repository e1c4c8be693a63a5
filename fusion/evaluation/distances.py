"""Distances between histograms and the paper's fusion scores (Table I).

All distance functions take normalised histograms ``p`` and ``q`` with the bins on the last axis;
leading axes are batch axes (the bootstrap passes a thousand histograms at once).

* EUD, Euclidean:              ``||p - q||_2``
* EM, earth mover (Wasserstein-1) over *ordered bins*: the bins' positions are the values and the
  histogram masses their weights, so with cumulative sums P, Q and positions x_0 < .. < x_{n-1}

      EM(p, q) = sum_{i < n-1} |P_i - Q_i| (x_{i+1} - x_i)

  (the same as ``scipy.stats.wasserstein_distance(x, x, p, q)``). Passing the masses as if they
  were samples, ``wasserstein_distance(p, q)``, is a known bug of a popular metrics toolkit: it
  compares the sets of bar heights and ignores where the bars stand.
* circular EM, for pitch classes, whose bins lie on a circle of period T with n equal steps
  s = T/n (Werman, Peleg & Rosenfeld 1985; Rabin, Delon & Gousseau 2011):

      EM_circ(p, q) = min_c sum_i |D_i - c| s,   D = cumsum(p - q),   c* = median(D)

* EM with a ground cost between 2-D bins (transition matrices): the optimal-transport cost
  ``min_T <T, C>`` over couplings T of p and q, solved exactly by POT's network simplex
  (``ot.emd2``).

Scores of a system's histogram F against the genres' histograms A and B, with d any distance
(the paper's Eq. in "Quantitative evaluation", and Balance, which the paper lacks):

    Diff    = d(A, F) + d(B, F) - d(A, B)          (>= 0 by the triangle inequality)
    Ratio   = (d(A, F) + d(B, F)) / d(A, B)        (>= 1; 1 on the segment between A and B)
    Balance = |d(A, F) - d(B, F)| / d(A, B)        (0 when F is equally far from both)
"""
from __future__ import annotations

import numpy as np
import ot

from fusion.features import Feature

#: The distances each feature is compared with (its columns in Table I / sequential table).
def metrics_of(feature: Feature) -> tuple[str, ...]:
    if feature.cost is not None:
        return ("eud", "em")
    if feature.period is not None:
        return ("eud", "em", "em_circular")
    return ("eud", "em")


METRIC_LABELS = {"eud": "EUD", "em": "EM", "em_circular": "EM (circular)"}


def euclidean(p, q) -> np.ndarray:
    return np.linalg.norm(np.asarray(p, float) - np.asarray(q, float), axis=-1)


def earth_mover(p, q, positions) -> np.ndarray:
    """Wasserstein-1 distance over ordered bins at ``positions`` (increasing)."""
    x = np.asarray(positions, float)
    if np.any(np.diff(x) <= 0):
        raise ValueError("bin positions must increase")
    gap = np.cumsum(np.asarray(p, float) - np.asarray(q, float), axis=-1)[..., :-1]
    return np.abs(gap) @ np.diff(x)


def circular_earth_mover(p, q, period: float) -> np.ndarray:
    """Wasserstein-1 distance between histograms on a circle of ``period`` with equal bins."""
    p, q = np.asarray(p, float), np.asarray(q, float)
    step = period / p.shape[-1]
    gap = np.cumsum(p - q, axis=-1)
    return np.abs(gap - np.median(gap, axis=-1, keepdims=True)).sum(axis=-1) * step


def ground_earth_mover(p, q, cost: np.ndarray) -> np.ndarray:
    """Optimal-transport cost between histograms of bins with pairwise ground ``cost``."""
    p, q = np.asarray(p, float), np.asarray(q, float)
    shape = np.broadcast_shapes(p.shape, q.shape)
    p, q = np.broadcast_to(p, shape).reshape(-1, shape[-1]), np.broadcast_to(q, shape).reshape(-1, shape[-1])
    out = np.empty(len(p))
    for i, (a, b) in enumerate(zip(p, q)):
        a, b = a / a.sum(), b / b.sum()  # exact unit mass for the solver
        out[i] = ot.emd2(a, b, cost)
    return out.reshape(shape[:-1])


def distance(feature: Feature, metric: str, p, q) -> np.ndarray:
    """``metric`` ('eud', 'em' or 'em_circular') between histograms of ``feature``."""
    if metric == "eud":
        return euclidean(p, q)
    if metric == "em":
        if feature.cost is not None:
            return ground_earth_mover(p, q, feature.cost)
        return earth_mover(p, q, feature.positions)
    if metric == "em_circular" and feature.period is not None:
        return circular_earth_mover(p, q, feature.period)
    raise ValueError(f"no metric {metric!r} for {feature.name}; choose from {metrics_of(feature)}")


def diff(d_a, d_b, d_ab):
    """Diff = d(A, F) + d(B, F) - d(A, B)."""
    return np.asarray(d_a) + np.asarray(d_b) - np.asarray(d_ab)


def ratio(d_a, d_b, d_ab):
    """Ratio = (d(A, F) + d(B, F)) / d(A, B)."""
    return (np.asarray(d_a) + np.asarray(d_b)) / np.asarray(d_ab)


def balance(d_a, d_b, d_ab):
    """Balance = |d(A, F) - d(B, F)| / d(A, B)."""
    return np.abs(np.asarray(d_a) - np.asarray(d_b)) / np.asarray(d_ab)


def fusion_scores(feature: Feature, metric: str, h, h_a, h_b) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``d(A, F)``, ``d(B, F)`` and ``d(A, B)`` of a fused histogram ``h`` (F) between the genres'
    ``h_a`` (A) and ``h_b`` (B) under ``metric``: the three distances every score above is made of."""
    return distance(feature, metric, h_a, h), distance(feature, metric, h_b, h), distance(feature, metric, h_a, h_b)


def ratio_balance(feature: Feature, metric: str, h, h_a, h_b) -> tuple[float, float]:
    """(Ratio, Balance) of one fused histogram ``h`` between the genres' ``h_a`` and ``h_b``
    (Table I's two scores; :func:`fusion_scores`)."""
    d = fusion_scores(feature, metric, h, h_a, h_b)
    return float(ratio(*d)), float(balance(*d))
