"""The acceptance maps (fusion/model/acceptance.py): the equal-density point and the bend."""
import pytest
import torch
from scipy.stats import norm

from fusion.model.acceptance import bend, equal_density


@pytest.mark.parametrize("mu_own,sd_own,mu_other,sd_other", [
    (1.0, 0.3, -1.0, 0.3), (1.0, 0.4, -1.0, 0.1), (-0.2, 0.05, 0.7, 0.5), (3.0, 1.0, 2.0, 0.2)])
def test_equal_density_is_where_the_two_normal_densities_cross_between_the_means(mu_own, sd_own, mu_other, sd_other):
    x0 = equal_density(mu_own, sd_own, mu_other, sd_other)
    assert min(mu_own, mu_other) <= x0 <= max(mu_own, mu_other)
    assert norm.pdf(x0, mu_own, sd_own) == pytest.approx(norm.pdf(x0, mu_other, sd_other), rel=1e-6)
    # nearer the tighter genre's mean (the midpoint for equal spreads)
    mid = (mu_own + mu_other) / 2
    tighter = mu_own if sd_own < sd_other else mu_other
    assert abs(x0 - tighter) <= abs(mid - tighter) + 1e-9


def test_bend_reads_one_half_at_u0_keeps_the_ends_and_stays_increasing():
    u = torch.linspace(-0.5, 1.5, 201)
    for u0 in (0.2, 0.43, 0.5, 0.72):
        b = bend(u, u0)
        assert float(bend(torch.tensor([u0]), u0)[0]) == pytest.approx(0.5)
        assert bend(torch.tensor([0.0, 1.0]), u0).tolist() == pytest.approx([0.0, 1.0])
        assert bool((b[1:] > b[:-1]).all())  # monotone: the order of melodies is kept
    assert torch.equal(bend(u, 0.5), u)
