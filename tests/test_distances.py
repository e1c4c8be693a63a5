"""Distances and fusion scores (fusion/evaluation/distances.py) against hand-computed values."""
import numpy as np
import ot
import pytest
from scipy.stats import wasserstein_distance

from fusion.evaluation import distances as D
from fusion import features as F

rng = np.random.default_rng(0)


def _random_hist(n, k=None):
    h = rng.random((k, n) if k else n) ** 3
    return h / h.sum(axis=-1, keepdims=True)


def test_euclidean_by_hand():
    assert D.euclidean([0.5, 0.5, 0], [0, 0.5, 0.5]) == pytest.approx(np.sqrt(0.5))


def test_earth_mover_uses_bin_positions_not_masses_as_samples():
    x = np.arange(3.0)
    p, q = np.array([1.0, 0, 0]), np.array([0, 0, 1.0])
    assert D.earth_mover(p, q, x) == pytest.approx(2.0)  # all mass moves two bins
    # the bug: masses treated as samples -- both are the multiset {0, 0, 1}, "distance" 0
    assert wasserstein_distance(p, q) == 0.0
    p, q = np.array([0.5, 0.5, 0]), np.array([0, 0.5, 0.5])
    assert D.earth_mover(p, q, x) == pytest.approx(1.0)  # half the mass moves two bins
    assert wasserstein_distance(p, q) == 0.0


def test_earth_mover_with_unequal_positions_and_agrees_with_scipy_weights():
    x = np.array([1 / 12, 2 / 12, 1.0])
    assert D.earth_mover([1, 0, 0], [0, 0, 1], x) == pytest.approx(11 / 12)
    pos = F.DD.positions
    for _ in range(5):
        p, q = _random_hist(48), _random_hist(48)
        assert D.earth_mover(p, q, pos) == pytest.approx(wasserstein_distance(pos, pos, p, q))
    with pytest.raises(ValueError, match="increase"):
        D.earth_mover([1, 0], [0, 1], [1.0, 0.0])


def test_circular_earth_mover_by_hand_and_by_linear_programming():
    e = np.eye(12)
    assert D.circular_earth_mover(e[0], e[11], 12) == pytest.approx(1.0)  # B is next to C
    assert D.earth_mover(e[0], e[11], np.arange(12.0)) == pytest.approx(11.0)
    assert D.circular_earth_mover(e[0], e[6], 12) == pytest.approx(6.0)
    assert D.circular_earth_mover(0.5 * (e[0] + e[6]), 0.5 * (e[3] + e[9]), 12) == pytest.approx(3.0)
    cost = np.minimum(np.abs(np.arange(12)[:, None] - np.arange(12)), 12 - np.abs(np.arange(12)[:, None] - np.arange(12)))
    for _ in range(10):
        p, q = _random_hist(12), _random_hist(12)
        assert D.circular_earth_mover(p, q, 12) == pytest.approx(ot.emd2(p, q, cost.astype(float)), abs=1e-9)


def test_ground_earth_mover_reduces_to_the_ordered_one_and_batches():
    x = np.arange(10.0)
    cost = np.abs(x[:, None] - x[None, :])
    p, q = _random_hist(10, 4), _random_hist(10)
    got = D.ground_earth_mover(p, q, cost)
    assert got.shape == (4,)
    assert got == pytest.approx(D.earth_mover(p, q, x))
    assert D.euclidean(p, q).shape == (4,) and D.circular_earth_mover(p, q, 10).shape == (4,)


@pytest.mark.parametrize("feature", list(F.FEATURES.values()), ids=list(F.FEATURES))
def test_ratio_is_exactly_one_and_balance_zero_for_the_even_mixture(feature):
    a, b = _random_hist(feature.bins), _random_hist(feature.bins)
    mix = 0.5 * (a + b)
    for metric in D.metrics_of(feature):
        d = lambda u, v: D.distance(feature, metric, u, v)  # noqa: E731
        assert D.ratio(d(a, mix), d(b, mix), d(a, b)) == pytest.approx(1.0, abs=1e-9), metric
        assert D.balance(d(a, mix), d(b, mix), d(a, b)) == pytest.approx(0.0, abs=1e-9), metric
        assert D.diff(d(a, mix), d(b, mix), d(a, b)) == pytest.approx(0.0, abs=1e-9), metric


@pytest.mark.parametrize("feature", list(F.FEATURES.values()), ids=list(F.FEATURES))
def test_ratio_at_least_one_and_balance_one_at_a_genre(feature):
    a, b, f = (_random_hist(feature.bins) for _ in range(3))
    for metric in D.metrics_of(feature):
        d = lambda u, v: D.distance(feature, metric, u, v)  # noqa: E731
        assert D.ratio(d(a, f), d(b, f), d(a, b)) >= 1 - 1e-9  # triangle inequality
        assert D.balance(d(a, a), d(b, a), d(a, b)) == pytest.approx(1.0)  # F = A: all the way to one side
        assert D.ratio(d(a, a), d(b, a), d(a, b)) == pytest.approx(1.0)  # ... yet Ratio is 1: why Balance


def test_scores_by_hand():
    assert D.diff(2.0, 3.0, 4.0) == 1.0
    assert D.ratio(2.0, 3.0, 4.0) == 1.25
    assert D.balance(2.0, 3.0, 4.0) == 0.25


def test_unknown_metric_is_a_clear_error():
    with pytest.raises(ValueError, match="no metric 'em_circular' for dd"):
        D.distance(F.DD, "em_circular", _random_hist(48), _random_hist(48))


def test_ratio_balance_of_one_histogram_by_hand():
    """On DD's ordered bins: A all at 1/12 beat, B all at 2/12, F half of each -> on the segment
    (Ratio 1), in its middle (Balance 0); F = A -> Ratio 1, Balance 1; F at 3/12 -> off the segment."""
    n = F.DD.bins
    a, b, mid, off = (np.zeros(n) for _ in range(4))
    a[0], b[1], mid[:2], off[2] = 1, 1, 0.5, 1
    step = 1 / 12
    assert D.fusion_scores(F.DD, "em", mid, a, b) == pytest.approx((step / 2, step / 2, step))
    assert D.ratio_balance(F.DD, "em", mid, a, b) == pytest.approx((1.0, 0.0))
    assert D.ratio_balance(F.DD, "em", a, a, b) == pytest.approx((1.0, 1.0))
    assert D.ratio_balance(F.DD, "em", off, a, b) == pytest.approx((3.0, 1.0))  # (2 + 1) steps / 1 step; |2 - 1| / 1
    r, bal = D.ratio_balance(F.DD, "eud", off, a, b)
    assert r == pytest.approx(2 * np.sqrt(2) / np.sqrt(2)) and bal == pytest.approx(0.0)
