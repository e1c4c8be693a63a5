"""Exponential tilting toward the midpoint of the two genres' statistics (``docs/method.md``,
"Blend: the midpoint of the statistics").

A product of experts p_A^w p_B^(1-w) favours what both genres share, eighth notes above all, and
the Blend generator warm-started on it inherits that: its note-length histogram (DD) lies off the
segment between jazz and folk (Table I Ratio 1.36 for PoE, 1.47 for Blend). The per-melody blend
reward cannot see this, because it is a property of the whole set of melodies, not of one.

The classical remedy is the I-projection (Csiszar 1975; the maximum-entropy principle): among the
distributions whose statistics average to a target, the one closest in relative entropy to p is
an exponential tilt of p,

    q_lambda(x) = p(x) exp(lambda . phi(x)) / Z(lambda)

where phi(x) are the melody's counts of each feature (divided by the feature's mean count per
melody, so every feature has one scale). The target is the midpoint of real jazz and real folk,
bin by bin, measured on the *training* windows (the test windows are never read):

    h*_f = (h_f(jazz) + h_f(folk)) / 2

for the features f of :data:`FEATURE_NAMES`: note durations (DD) and pitch classes (NPD), the
two histograms of Table I, and the IOI-class and pitch-class transitions (the sequential measures;
``fusion.features`` counts them, the same code the evaluation uses). The midpoint lies
on the segment between the genres (Ratio 1) and equally far from both (Balance 0).

lambda is fitted to the distribution actually used, with the loss

    L(lambda) = sum_f |h_f(q_lambda) - h*_f|^2 / |h_f(jazz) - h_f(folk)|^2 + rho |lambda|^2     (1)

where h_f(q_lambda) is the aggregate histogram (every counted event once, as the evaluation
counts) of a sample of p's melodies weighted by the tilt. The sample is cut into *groups* of k
melodies and the weights are normalised within each group:

* the blend **teacher** (one group, the whole pool of product-of-experts melodies): the warm start
  and the MLE anchor draw melodies with probability q_lambda(x) / p(x), an exact I-projection of
  the pool;
* Blend's **decoding** (sampling-importance-resampling, groups of k candidates): each melody is
  chosen among k candidates with probability softmax(lambda . phi) over them; fitting lambda on
  groups of k of Blend's own melodies makes (1) the loss of that very rule.

**With the reward** (Blend's decoding, :func:`fit_with_reward`; ``docs/method.md`` calls it (T2)):

    q(x) ∝ p(x) exp(lambda . phi(x) + beta R(x))                                            (2)

R the blend reward of the genre critics (:class:`fusion.model.blend.Reward`): the I-projection of
p onto the distributions with the midpoint's statistics and a higher mean reward, i.e. the
optimum of ``E_q[R] - KL(q || p) / beta`` under (1)'s constraint. beta is the largest of
:data:`BETA_GRID` (in units of 1 / sd(R)) that keeps ``total_min_ess`` of each group effective
and, with ``gap_keep``, at least that share of what the statistics' tilt alone took off the
summed gaps (``docs/method.md``, "A floor on the rule's statistics").

rho keeps the tilt from resting on a few melodies: the smallest rho of a grid whose mean effective
sample size per group, 1 / sum_i s_i^2 for the within-group weights s, is at least ``min_ess`` of
the group. Nothing here reads the judge or a classifier; only training windows and the model's
own melodies.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from fusion.features import FEATURES

#: the features the tilt matches (names of :data:`fusion.features.FEATURES`)
FEATURE_NAMES = ("dd", "npd", "ioi_transition", "pc_transition")
#: the feature a rule may match besides those (``genre_midpoint(rests=True)``): the lengths of the
#: rests between notes, whose long ones neither (1) nor the reward sees (``docs/method.md``)
REST_FEATURE = "rest"
#: ... and the melodic intervals (``genre_midpoint(intervals=True)``), which the evaluation scores as
#: a sequential measure and a rule on the other features moves (``docs/method.md``, "Melodic
#: intervals in the rule")
INTERVAL_FEATURE = "interval"
#: the rho grid of (1), smallest first
RHO_GRID = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0)
#: the grid of the reward's weight in (2), smallest first, in units of 1 / sd(R) over the fitting
#: sample (for a Gaussian R alone, beta sd(R) = 1 keeps about e^-1 of the candidates effective)
BETA_GRID = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.5, 3.0, 4.0)


def count_matrices(melodies, names=FEATURE_NAMES) -> dict[str, np.ndarray]:
    """Per-melody counts ``(len(melodies), bins)`` of each feature (the evaluation's counters)."""

    return {n: FEATURES[n].matrix(melodies) for n in names}


def _hist(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    if total <= 0:
        raise ValueError("no counted events in these melodies")
    return counts.sum(0) / total


@dataclass
class Target:
    """The midpoint ``h*_f`` of real jazz and real folk per feature, and the genres' distance
    ``|h_f(jazz) - h_f(folk)|`` (Euclidean) that scales each feature's term of (1).

    ``cramer`` (empty unless :meth:`between` is asked for it) adds, for the features whose bins
    are ordered (DD and NPD: Table I's EM columns), the cumulative form of (1): the Cramer
    distance (1b); ``grid`` likewise, for the transition grids whose axes are ordered (IOI-class
    transitions), its two-dimensional form (1c)."""

    mid: dict[str, np.ndarray]
    spread: dict[str, float]
    cramer: dict[str, tuple[np.ndarray, float]] = field(default_factory=dict)
    grid: dict[str, tuple[np.ndarray, tuple[float, float, float]]] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.mid)

    @classmethod
    def between(cls, jazz, folk, names=FEATURE_NAMES, cramer: bool = False, transitions: bool = False) -> "Target":
        """The target between two sets of melodies (the genres' training windows).

        With ``cramer``, the features whose bins are ordered (DD and NPD: Table I's EM columns)
        also get the cumulative form of (1). Table I's EM over ordered bins is the L1 distance
        of the cumulative histograms, ``sum_i |H_i - H*_i| dx_i``
        (:mod:`fusion.evaluation.distances`), and (1)'s Euclidean term does not see where the
        bins stand: a tilt that meets it can still leave mass on one side of the midpoint. The
        added term is the squared L2 form, the Cramer distance (Szekely 2003; Bellemare et al.
        2017), smooth in lambda:

            sum_i (H_i(q) - H*_i)^2 dx_i / sum_i (H_i(jazz) - H_i(folk))^2 dx_i              (1b)

        ``H*`` the cumulative midpoint (the midpoint of the cumulative histograms: cumulation is
        linear), ``dx`` the gaps between the bins' positions (:data:`fusion.features.FEATURES`).
        The circular EM's median shift has no such smooth form and stays with (1).

        With ``transitions``, a transition grid whose two axes are ordered bins (IOI-class
        transitions: ``Feature.axis``, the ground cost the L1 distance between cells) gets the
        two-dimensional form of (1b). Its optimal-transport cost is at least the sum of the two
        marginals' one-dimensional EM (a coupling of the grids projects onto couplings of each
        axis), and the joint cumulative histogram ``H(i, j)`` (mass at or below class i, then at
        or below class j) sees where the pairs stand, which the Euclidean term does not:

            (1/3) [ sum_{i,j<k-1} (H_ij(q) - H*_ij)^2 dx_i dx_j / S_joint
                  + sum_{i<k-1} (H_i,k-1(q) - H*_i,k-1)^2 dx_i / S_first
                  + sum_{j<k-1} (H_k-1,j(q) - H*_k-1,j)^2 dx_j / S_next ]                      (1c)

        the joint term and the Cramer terms (1b) of the first and the next class's marginals,
        each scaled by its value between the two genres (so (1c) is 1 from one genre to the
        other, 1/4 from either to the midpoint, as (1b) is).

        Parameters
        ----------
        jazz, folk : list of Melody
            Real melodies of each genre.
        names : tuple of str, optional
            The features (default :data:`FEATURE_NAMES`).

        Returns
        -------
        Target
            ``mid[f] = (h_f(jazz) + h_f(folk)) / 2``, ``spread[f] = |h_f(jazz) - h_f(folk)|``
            (at least 1e-9).
        """
        cj, cf = count_matrices(jazz, names), count_matrices(folk, names)
        mid, spread, cumulative, grid = {}, {}, {}, {}
        for n in names:
            hj, hf = _hist(cj[n]), _hist(cf[n])
            mid[n] = (hj + hf) / 2
            spread[n] = max(float(np.linalg.norm(hj - hf)), 1e-9)
            feature = FEATURES[n]
            if cramer and feature.positions is not None and feature.cost is None:
                dx = np.diff(np.asarray(feature.positions, float))
                gap = np.cumsum(hj - hf)[:-1]
                cumulative[n] = (dx, max(float((gap ** 2 * dx).sum()), 1e-12))
            if transitions and feature.axis is not None:
                dx = np.diff(np.asarray(feature.axis, float))
                parts = grid_terms(torch.as_tensor(hj - hf), torch.as_tensor(dx))
                grid[n] = (dx, tuple(max(float(v), 1e-12) for v in parts))
        return cls(mid, spread, cumulative, grid)

    def gaps(self, counts: dict[str, np.ndarray], weights: np.ndarray | None = None) -> dict[str, float]:
        """``|h_f - h*_f| / spread_f`` per feature for melodies' counts (optionally weighted): 0 at
        the midpoint, 0.5 at either genre's own histogram."""
        out = {}
        for n in self.names:
            c = counts[n] if weights is None else counts[n] * weights[:, None]
            h = _hist(c)
            out[n] = round(float(np.linalg.norm(h - self.mid[n]) / self.spread[n]), 4)
            if n in self.cramer:  # the square root of (1b): 0 at the midpoint, 0.5 at either genre
                dx, scale = self.cramer[n]
                out[f"{n}_cramer"] = round(float(np.sqrt((np.cumsum(h - self.mid[n])[:-1] ** 2 * dx).sum() / scale)), 4)
            if n in self.grid:  # the square root of (1c), likewise
                dx, scales = self.grid[n]
                parts = grid_terms(torch.as_tensor(h - self.mid[n]), torch.as_tensor(dx))
                out[f"{n}_cramer"] = round(float(np.sqrt(sum(float(v) / c for v, c in zip(parts, scales)) / 3)), 4)
        return out

    def to_dict(self) -> dict:
        out = {"mid": {n: [round(float(v), 8) for v in h] for n, h in self.mid.items()}, "spread": self.spread}
        if self.cramer:
            out["cramer"] = {n: {"dx": [float(v) for v in dx], "scale": scale} for n, (dx, scale) in self.cramer.items()}
        if self.grid:
            out["grid"] = {n: {"dx": [float(v) for v in dx], "scales": list(sc)} for n, (dx, sc) in self.grid.items()}
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "Target":
        return cls({n: np.asarray(h, float) for n, h in d["mid"].items()}, {n: float(v) for n, v in d["spread"].items()},
                   {n: (np.asarray(c["dx"], float), float(c["scale"])) for n, c in d.get("cramer", {}).items()},
                   {n: (np.asarray(c["dx"], float), tuple(float(v) for v in c["scales"]))
                    for n, c in d.get("grid", {}).items()})


@dataclass
class Tilt:
    """``exp(lambda . phi(x))``: a fitted exponential tilt (module docstring).

    ``lam[f]`` is lambda's block for feature f; ``scale[f]`` the mean count per melody that
    divides its counts; ``group`` the k it was fitted for (the candidates per melody in decoding,
    or the pool for a teacher); ``report`` what the fit measured (rho, effective sample sizes,
    the gaps of (1) before and after, on the fitting sample and on a held-out one)."""

    lam: dict[str, np.ndarray]
    scale: dict[str, float]
    group: int
    report: dict = field(default_factory=dict)
    beta: float = 0.0
    per_note: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.lam)

    def phi(self, counts: dict[str, np.ndarray]) -> np.ndarray:
        """The melody's features: its counts over the feature's mean count per melody, or with
        ``per_note`` its own histogram (counts over its own total), so that the tilt reads the
        shape of a melody's statistics and not how many notes it has ((T1d), ``docs/method.md``)."""
        if self.per_note:
            return np.concatenate([counts[n] / np.maximum(counts[n].sum(1, keepdims=True), 1) for n in self.names],
                                  axis=1)
        return np.concatenate([counts[n] / self.scale[n] for n in self.names], axis=1)

    def log_weights(self, counts: dict[str, np.ndarray], rewards=None) -> np.ndarray:
        """``lambda . phi(x) + beta R(x)`` per melody (the log of the unnormalised tilt); the
        rewards R are needed when ``beta`` is not 0."""
        out = self.phi(counts) @ np.concatenate([self.lam[n] for n in self.names])
        if self.beta:
            if rewards is None:
                raise ValueError("this tilt weighs the blend reward: pass each melody's R")
            out = out + self.beta * np.asarray(rewards, dtype=float)
        return out

    def choose(self, melodies, k: int, generator: torch.Generator, rewards=None) -> list[int]:
        """Sampling-importance-resampling: for each consecutive group of ``k`` candidates, the
        index (into ``melodies``) of the one drawn with probability softmax(lambda . phi + beta R)
        (``rewards``: each candidate's blend reward, needed when ``beta`` is not 0)."""
        if len(melodies) % k:
            raise ValueError(f"{len(melodies)} candidates do not split into groups of {k}")
        logw = torch.as_tensor(self.log_weights(count_matrices(melodies, self.names), rewards)).view(-1, k)
        picks = torch.multinomial(torch.softmax(logw, 1), 1, generator=generator).view(-1)
        return [g * k + int(i) for g, i in enumerate(picks)]

    def to_dict(self) -> dict:
        return {"lambda": {n: [round(float(v), 6) for v in x] for n, x in self.lam.items()},
                "scale": self.scale, "group": self.group, "report": self.report, "beta": self.beta,
                **({"per_note": True} if self.per_note else {})}

    @classmethod
    def from_dict(cls, d: dict) -> "Tilt":
        return cls({n: np.asarray(x, float) for n, x in d["lambda"].items()},
                   {n: float(v) for n, v in d["scale"].items()}, int(d["group"]), d.get("report", {}),
                   float(d.get("beta", 0.0)), bool(d.get("per_note", False)))


def grid_terms(diff: torch.Tensor, dx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The three unscaled sums of (1c) for a difference ``diff`` of two k x k transition
    histograms (flattened, row = first class) with axis gaps ``dx`` (k - 1): joint, first-class
    marginal, next-class marginal."""
    k = len(dx) + 1
    cum = torch.cumsum(torch.cumsum(diff.reshape(k, k), 0), 1)
    joint = (cum[:-1, :-1] ** 2 * dx[:, None] * dx[None, :]).sum()
    return joint, (cum[:-1, -1] ** 2 * dx).sum(), (cum[-1, :-1] ** 2 * dx).sum()


def group_weights(logw: torch.Tensor, k: int) -> torch.Tensor:
    """Within-group softmax of log-weights ``(N,)`` (N a multiple of k), flattened, each group
    summing to 1."""
    return torch.softmax(logw.view(-1, k), 1).reshape(-1)


def _loss_parts(lam, phi, counts, totals, target, names, k, offset=0.0, cramer=None, grid=None):
    """(1)'s terms, one per feature, each followed by its (1b) term for the features in
    ``cramer`` (name -> (dx, scale)) or its (1c) term for those in ``grid`` (name -> (dx,
    scales)), under the within-group weights of ``phi @ lam + offset``."""
    s = group_weights(phi @ lam + offset, k)
    terms = []
    for n in names:
        h = (s @ counts[n]) / (s @ totals[n])
        terms.append(((h - target[n][0]) ** 2).sum() / target[n][1] ** 2)
        if cramer and n in cramer:
            dx, scale = cramer[n]
            terms.append(((torch.cumsum(h - target[n][0], 0)[:-1] ** 2) * dx).sum() / scale)
        if grid and n in grid:
            dx, scales = grid[n]
            terms.append(sum(v / c for v, c in zip(grid_terms(h - target[n][0], dx), scales)) / 3)
    return torch.stack(terms), s


def fit(counts: dict[str, np.ndarray], target: Target, group: int, min_ess: float = 0.25,
        rho_grid=RHO_GRID, held_out: dict[str, np.ndarray] | None = None, steps: int = 100,
        offset: np.ndarray | None = None, held_out_offset: np.ndarray | None = None, cv: bool = False,
        per_note: bool = False, rho_on_held_out: bool = False) -> Tilt:
    """Fit lambda by (1) on melodies' counts, cut in consecutive groups of ``group``.

    Parameters
    ----------
    counts : dict of str to np.ndarray
        Per-melody counts of each of ``target``'s features (:func:`count_matrices`), the
        melodies in random order; the last ``N mod group`` are left out.
    target : Target
        The midpoint to reach.
    group : int
        Melodies per group: the candidates per melody of the decoding rule, or ``N`` (the pool).
    min_ess : float, optional
        The least mean effective sample size per group, as a share of the group.
    rho_grid : sequence of float, optional
        The rho of (1) tried, smallest first; the first that keeps ``min_ess`` is kept (the last
        one if none does).
    held_out : dict, optional
        Counts of other melodies of the same model, cut the same way, to report the gaps the
        fitted rule leaves on melodies it was not fitted on.
    steps : int, optional
        L-BFGS iterations per rho.
    offset, held_out_offset : np.ndarray, optional
        A fixed log-weight per melody added to ``lambda . phi`` (``beta R``: the reward's part
        of (2), :func:`fit_with_reward`), for the fitting sample and the held-out one.
    cv : bool, optional
        Choose rho by two-fold cross-validation instead: among the rho of the grid that keep
        ``min_ess``, the one whose lambda, fitted on every other group, leaves the smallest loss
        (1) (without its penalty) on the groups it was not fitted on, both ways round; then
        lambda is that rho's fit on all groups. Needs at least four groups (else the ``min_ess``
        rule stands).
    per_note : bool, optional
        Tilt on each melody's own histograms instead of its counts (:meth:`Tilt.phi`).
    rho_on_held_out : bool, optional
        Choose rho on ``held_out`` instead (over ``cv``): among the rho of the grid that keep
        ``min_ess``, the one whose lambda, fitted on all the groups, leaves the smallest loss (1)
        (without its penalty) on the held-out melodies, as many again as the fitting ones rather
        than half of them (docs/method.md, "Choosing rho on the held-out candidates"). Needs
        ``held_out`` with at least one group.

    Returns
    -------
    Tilt
        With ``report``: rho, the effective sample share, and the per-feature gaps
        (``|h_f - h*_f| / spread_f``, :meth:`Target.gaps`) before and after, on the fitting
        sample (and the held-out one).
    """
    names = target.names
    n = len(next(iter(counts.values())))
    N = n - n % group
    if N < group or N == 0:
        raise ValueError(f"{n} melodies do not make one group of {group}")
    counts = {f: counts[f][:N] for f in names}
    scale = {f: max(float(counts[f].sum(1).mean()), 1e-9) for f in names}
    tilt = Tilt({f: np.zeros(counts[f].shape[1]) for f in names}, scale, group, per_note=per_note)
    phi = torch.as_tensor(tilt.phi(counts), dtype=torch.float64)
    tc = {f: torch.as_tensor(counts[f], dtype=torch.float64) for f in names}
    tt = {f: tc[f].sum(1) for f in names}
    tg = {f: (torch.as_tensor(target.mid[f], dtype=torch.float64), target.spread[f]) for f in names}
    off = torch.zeros(N, dtype=torch.float64) if offset is None else torch.as_tensor(offset[:N], dtype=torch.float64)
    cr = {f: (torch.as_tensor(dx, dtype=torch.float64), scale) for f, (dx, scale) in target.cramer.items()}
    gr = {f: (torch.as_tensor(dx, dtype=torch.float64), scales) for f, (dx, scales) in target.grid.items()}

    def solve(rho, rows, start=None):
        lam = (torch.zeros(phi.shape[1], dtype=torch.float64) if start is None else start.clone()).requires_grad_(True)
        ph, c, t, o = phi[rows], {f: tc[f][rows] for f in names}, {f: tt[f][rows] for f in names}, off[rows]
        opt = torch.optim.LBFGS([lam], lr=1, max_iter=steps, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            terms, _ = _loss_parts(lam, ph, c, t, tg, names, group, o, cr, gr)
            loss = terms.sum() + rho * (lam ** 2).sum()
            loss.backward()
            return loss

        opt.step(closure)
        return lam.detach()

    everything = torch.arange(N)
    folds, validation, ho = None, None, None
    if held_out is not None:  # cut in whole groups like the fitting sample; read by rho_on_held_out and the report
        m = len(next(iter(held_out.values())))
        M = m - m % group
        if M >= group:
            ho = {f: held_out[f][:M] for f in names}
            ho_off = 0.0 if held_out_offset is None else torch.as_tensor(held_out_offset[:M], dtype=torch.float64)
    if rho_on_held_out:
        if ho is None:
            raise ValueError("rho_on_held_out needs held-out melodies of at least one group")
        validation = (torch.as_tensor(tilt.phi(ho), dtype=torch.float64),
                      {f: torch.as_tensor(ho[f], dtype=torch.float64) for f in names}, ho_off)
    elif cv and N // group >= 4:
        parity = (everything // group) % 2
        folds = [(everything[parity == i], everything[parity != i]) for i in (0, 1)]
    chosen, cv_loss, lam = None, {}, None
    for rho in rho_grid:
        lam = solve(rho, everything, lam)  # warm-started from the previous rho's fit
        with torch.no_grad():
            s = group_weights(phi @ lam + off, group).view(-1, group)
            ess = float((1 / (s ** 2).sum(1)).mean() / group)
        if folds is None and validation is None:
            chosen = (rho, ess, lam.clone())
            if ess >= min_ess:
                break
            continue
        if ess < min_ess:  # the smoothest so far stands in until a rho keeps min_ess
            if chosen is None or chosen[1] < min_ess:
                chosen = (rho, ess, lam.clone())
            continue
        if validation is not None:
            with torch.no_grad():  # (1) without its penalty, on the held-out melodies, this lambda
                v_phi, v_c, v_off = validation
                loss = float(_loss_parts(lam, v_phi, v_c, {f: v_c[f].sum(1) for f in names}, tg, names, group,
                                         v_off, cr, gr)[0].sum())
        else:
            with torch.no_grad():  # (1) without its penalty, on the groups the fold's lambda was not fitted on
                loss = sum(float(_loss_parts(solve(rho, fit_rows), phi[val], {f: tc[f][val] for f in names},
                                             {f: tt[f][val] for f in names}, tg, names, group, off[val], cr,
                                             gr)[0].sum())
                           for fit_rows, val in folds) / 2
        cv_loss[str(rho)] = round(loss, 5)
        if chosen is None or chosen[1] < min_ess or loss < cv_loss[str(chosen[0])]:
            chosen = (rho, ess, lam.clone())
    rho, ess, best = chosen
    split = np.cumsum([counts[f].shape[1] for f in names])[:-1]
    tilt.lam = dict(zip(names, np.split(best.numpy(), split)))
    w = group_weights(torch.as_tensor(tilt.log_weights(counts)) + off, group).numpy()
    report = {"rho": rho, "ess_share": round(ess, 4), "melodies": N, "group": group,
              **({"rho_held_out_loss" if validation is not None else "rho_cv_loss": cv_loss} if cv_loss else {}),
              "gaps_before": target.gaps(counts), "gaps_after": target.gaps(counts, w)}
    if ho is not None:
        wh = group_weights(torch.as_tensor(tilt.log_weights(ho)) + ho_off, group).numpy()
        report.update(held_out=M, held_out_gaps_before=target.gaps(ho), held_out_gaps_after=target.gaps(ho, wh))
    tilt.report = report
    return tilt


def _weighted_mean(values: np.ndarray, logw: np.ndarray, group: int) -> float:
    """The mean of per-melody ``values`` under the within-group weights of ``logw`` (each group
    counts once): what the decoding rule's melodies average."""
    n = len(values) - len(values) % group
    s = group_weights(torch.as_tensor(logw[:n], dtype=torch.float64), group).numpy()
    return float((s * values[:n]).sum() / (n // group))


def fit_with_reward(counts: dict[str, np.ndarray], rewards: np.ndarray, target: Target, group: int,
                    min_ess: float = 0.25, total_min_ess: float = 0.125, betas=BETA_GRID,
                    held_out: dict[str, np.ndarray] | None = None, held_out_rewards: np.ndarray | None = None,
                    steps: int = 100, cv: bool = False, rho_grid=RHO_GRID, per_note: bool = False,
                    gap_keep: float = 0.0, rho_on_held_out: bool = False) -> Tilt:
    """The decoding tilt of (2): ``q(x) ∝ p(x) exp(lambda . phi(x) + beta R(x))``.

    (2) is the I-projection of p onto the distributions whose statistics are the midpoint and
    whose mean blend reward is raised (equivalently, the optimum of the KL-regularised reward
    objective ``E_q[R] - KL(q || p) / beta`` under the statistics' constraint). First lambda is
    fitted alone by (1) (:func:`fit`, its rho chosen by ``min_ess``, or with ``cv`` by two-fold
    cross-validation among the rho that keep ``min_ess``); then for each beta of
    ``betas``, smallest first, lambda is fitted again by (1) at that rho with ``beta R`` added to
    every log-weight, and the largest beta whose mean effective sample size per group is still at
    least ``total_min_ess`` of the group is kept (beta = 0 if none is). With ``gap_keep`` > 0, beta
    also stops where the reward takes back more than ``1 - gap_keep`` of what the statistics'
    tilt alone took off the summed gaps on the fitting sample: the largest beta whose summed gap is
    at most ``after + (1 - gap_keep) (before - after)`` (before: the candidates' own, after: the
    statistics' tilt alone) is kept, so that (2)'s reward never undoes its constraint.

    Parameters
    ----------
    counts : dict of str to np.ndarray
        Per-melody counts of ``target``'s features (:func:`count_matrices`).
    rewards : np.ndarray
        The blend reward R of the same melodies (:class:`fusion.model.blend.Reward`).
    target : Target
        The midpoint to reach.
    group : int
        Candidates per melody of the decoding rule.
    min_ess : float, optional
        (1)'s floor on the effective sample share, for the statistics' tilt alone.
    total_min_ess : float, optional
        The floor for the whole tilt, statistics and reward.
    betas : sequence of float, optional
        The reward weights tried, smallest first, in units of 1 / sd(R).
    held_out, held_out_rewards : optional
        Counts and rewards of other melodies of the same model, to report what the rule does on
        melodies it was not fitted on.
    steps : int, optional
        L-BFGS iterations per fit.
    cv : bool, optional
        Choose the statistics' rho by cross-validation (:func:`fit`).
    rho_grid : sequence of float, optional
        The rho tried for the statistics' tilt (:func:`fit`).
    per_note : bool, optional
        Tilt on each melody's own histograms (:meth:`Tilt.phi`).
    gap_keep : float, optional
        The share of the statistics' tilt's reduction of the summed gaps that the reward's part
        must leave (0: no such floor, only ``total_min_ess``; docs/method.md, "A floor on the
        rule's statistics").
    rho_on_held_out : bool, optional
        Choose the statistics' rho on ``held_out`` (:func:`fit`), not by ``cv``.

    Returns
    -------
    Tilt
        With ``beta`` set and ``report`` as :func:`fit`'s, plus ``beta``, ``ess_share_stats``
        (the statistics' tilt alone), the mean R of the candidates and of the chosen melodies
        (``reward_before``, ``reward_after``; ``held_out_reward_*`` likewise), ``betas_tried``
        (beta in units of 1 / sd(R) -> effective share), ``beta_sd`` (the kept one in those
        units) and ``reward_sd``; with ``gap_keep``, ``gap_limit`` and ``gaps_tried`` (beta ->
        the summed gap on the fitting sample).
    """
    rewards = np.asarray(rewards, dtype=float)
    sd = max(float(rewards.std()), 1e-12)
    kept = 0.0
    best = first = fit(counts, target, group, min_ess, rho_grid, held_out=held_out, steps=steps, cv=cv,
                       per_note=per_note, rho_on_held_out=rho_on_held_out)
    rho, tried, stats_ess = best.report["rho"], {}, best.report["ess_share"]
    before, after = sum(first.report["gaps_before"].values()), sum(first.report["gaps_after"].values())
    limit = after + (1 - gap_keep) * max(before - after, 0.0)
    gaps_tried = {}
    for beta in betas:
        b = beta / sd
        cand = fit(counts, target, group, 0.0, rho_grid=(rho,), held_out=held_out, steps=steps,
                   offset=b * rewards, per_note=per_note,
                   held_out_offset=None if held_out_rewards is None else b * np.asarray(held_out_rewards, float))
        tried[str(beta)] = cand.report["ess_share"]
        gaps_tried[str(beta)] = round(sum(cand.report["gaps_after"].values()), 4)
        if cand.report["ess_share"] < total_min_ess or (gap_keep > 0 and gaps_tried[str(beta)] > limit):
            break
        cand.beta, kept = float(b), float(beta)
        best = cand
    chosen_by = {k: first.report[k] for k in ("rho_cv_loss", "rho_held_out_loss") if k in first.report}
    if gap_keep > 0:
        chosen_by.update(gap_keep=gap_keep, gap_limit=round(limit, 4), gaps_tried=gaps_tried)
    report = dict(best.report, **chosen_by, beta=best.beta, beta_sd=kept, reward_sd=round(sd, 6), betas_tried=tried,
                  total_min_ess=total_min_ess,
                  ess_share_stats=stats_ess,
                  reward_before=round(float(rewards[:best.report["melodies"]].mean()), 4),
                  reward_after=round(_weighted_mean(rewards, best.log_weights(counts, rewards), group), 4))
    if held_out is not None and held_out_rewards is not None and "held_out" in report:
        hr = np.asarray(held_out_rewards, dtype=float)
        report.update(held_out_reward_before=round(float(hr[:report["held_out"]].mean()), 4),
                      held_out_reward_after=round(_weighted_mean(hr, best.log_weights(held_out, hr), group), 4))
    best.report = report
    return best
