"""Acceptance maps shared by the blend reward's calibrated judges (``blend.Calibration``, the genre
critics) and equal evidence (``evidence.Evidence``, the generators' opinion).

Both read a melody on a linear scale ``u`` that is 0 at the other genre's mean and 1 at the own
genre's (Eq. 4's critic scores, calibrated; docs/method.md, "Equal density"). ``equal_density``
finds the point u0 between the means at which the two genres' normal score densities are equal,
and ``bend`` maps ``u`` piecewise-linearly so that u0 reads 1/2: the acceptance at which a melody is
as likely jazz as folk.
"""
from __future__ import annotations

import numpy as np
import torch


def equal_density(mu_own: float, sd_own: float, mu_other: float, sd_other: float) -> float | None:
    """The score x between the two means at which N(x; mu_own, sd_own) = N(x; mu_other, sd_other)
    (None if the densities do not cross there). Equal spreads give the midpoint; otherwise the
    crossing lies nearer the tighter distribution's mean.

    The log-density difference is the quadratic
    ``(1/(2 s_o^2) - 1/(2 s^2)) x^2 + (mu/s^2 - mu_o/s_o^2) x + mu_o^2/(2 s_o^2) - mu^2/(2 s^2) + log(s_o/s)``
    (s, mu the own genre's; s_o, mu_o the other's), of which the root between the means is taken.
    """
    s1, s2 = max(sd_own, 1e-9), max(sd_other, 1e-9)
    qa = 1 / (2 * s2 ** 2) - 1 / (2 * s1 ** 2)
    qb = mu_own / s1 ** 2 - mu_other / s2 ** 2
    qc = mu_other ** 2 / (2 * s2 ** 2) - mu_own ** 2 / (2 * s1 ** 2) + np.log(s2 / s1)
    lo, hi = min(mu_own, mu_other), max(mu_own, mu_other)
    roots = [-qc / qb] if abs(qa) < 1e-12 * max(abs(qb), 1e-300) else np.roots([qa, qb, qc])
    inside = [float(np.real(r)) for r in roots if abs(np.imag(r)) < 1e-12 and lo <= np.real(r) <= hi]
    return inside[0] if inside else None


def bend(u: torch.Tensor, u0: float) -> torch.Tensor:
    """The linear acceptance ``u`` (0 at the other genre's mean, 1 at the own genre's) bent so that
    ``u0`` reads 1/2 (module docstring, "Equal density"); linear beyond [0, 1]. ``u0 = 1/2``
    leaves ``u`` as it is."""
    if u0 == 0.5:
        return u
    return torch.where(u <= u0, u / (2 * u0), 0.5 + (u - u0) / (2 * (1 - u0)))
