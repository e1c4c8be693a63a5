"""Results ready for a paper: the Fusion Level per system with its interval, paired bootstrap
differences between systems, musicality by system and listener group, the figure as SVG or PNG,
and Table II as LaTeX beside the paper's.

* **Paired differences.** Every participant hears one clip of every system, so systems are
  compared on the same listeners: each of ``RESAMPLES`` bootstrap draws resamples *participants*
  (with replacement) and recomputes every system's Fusion Level on that one draw;
  ``FL(a) - FL(b)`` gets the 2.5th and 97.5th percentiles of its draws as a 95% interval
  (percentile method), and ``p_le_0``, the share of draws where the difference is at most 0 (a
  one-sided bootstrap p-value for "a fuses more than b").
* **Listener groups.** "qualified" listeners named at least 2/3 of their qualification clips'
  genres (``analysis.QUALIFIED``); the others are "not qualified". Musicality answers are given
  in percent of each (system, group), with their count.
* **Table II, ours beside the paper's**, rows in the paper's order then ours; numbers with one
  decimal; a missing value is written ``n/a``, never ``nan``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from fusion import registry
from fusion.evaluation import paper
from listening_test import analysis
from listening_test.flow import MAIN_GROUPS, QUESTIONS

RESAMPLES = 2000
#: the fusing systems in the clip pool (the paper's Fusion and this project's), whose paired
#: differences the results page headlines (registry.FUSING in the listening test)
FOCUS = tuple(s for s in registry.FUSING if s in registry.LISTENING_SYSTEMS)


def counts(df: pd.DataFrame) -> tuple[np.ndarray, list]:
    """Fusion answers as a participants x systems x (jazz, folk, mixture, neither) count array."""
    fus = df[(df.role == "main") & (df.question == "fusion")]
    people = sorted(fus.participant.unique())
    out = np.zeros((len(people), len(MAIN_GROUPS), 4))
    index = {p: i for i, p in enumerate(people)}
    for p, system, choice in fus[["participant", "system", "choice"]].itertuples(index=False):
        if system in MAIN_GROUPS and choice in paper.LABELS:
            out[index[p], MAIN_GROUPS.index(system), paper.LABELS.index(choice)] += 1
    return out, people


def _fl(tot: np.ndarray) -> np.ndarray:
    j, f, m, n = np.moveaxis(tot, -1, 0)
    total = tot.sum(axis=-1)
    return np.where(total > 0, 100 * (1 - (np.abs(j - f) + n) / np.maximum(total, 1)), np.nan)


def paired_differences(df: pd.DataFrame, resamples: int = RESAMPLES, seed: int = 0) -> pd.DataFrame:
    """``FL(a) - FL(b)`` for every ordered pair of systems with answers, with its paired bootstrap
    interval and ``p_le_0`` (module docstring)."""
    c, people = counts(df)
    if not people:
        return pd.DataFrame(columns=["system", "versus", "difference", "ci_low", "ci_high", "p_le_0"])
    point = _fl(c.sum(axis=0))
    draws = np.random.default_rng(seed).integers(0, len(people), size=(resamples, len(people)))
    fl = _fl(c[draws].sum(axis=1))  # resamples x systems
    rows = []
    for a, sa in enumerate(MAIN_GROUPS):
        for b, sb in enumerate(MAIN_GROUPS):
            if a == b or np.isnan(point[a]) or np.isnan(point[b]):
                continue
            d = fl[:, a] - fl[:, b]
            d = d[~np.isnan(d)]
            low, high = np.percentile(d, [2.5, 97.5]) if len(d) else (np.nan, np.nan)
            rows.append({"system": sa, "versus": sb, "difference": point[a] - point[b], "ci_low": low,
                         "ci_high": high, "p_le_0": float((d <= 0).mean()) if len(d) else np.nan})
    return pd.DataFrame(rows)


def musicality(df: pd.DataFrame) -> pd.DataFrame:
    """Expert / newbie / robot answers in percent per system and listener group (module docstring)."""
    flags = analysis.participant_flags(df) if len(df) else pd.DataFrame(columns=["qualified"])
    mus = df[(df.role == "main") & (df.question == "musicality")].copy()
    mus["group"] = mus.participant.map(flags.qualified).map({True: "qualified", False: "not qualified"})
    rows = []
    for system in MAIN_GROUPS:
        for group in ("qualified", "not qualified"):
            part = mus[(mus.system == system) & (mus.group == group)]
            shares = part.choice.value_counts(normalize=True).reindex(QUESTIONS["musicality"], fill_value=0.0)
            rows.append({"system": system, "group": group, "answers": len(part),
                         **{k: (100 * v if len(part) else np.nan) for k, v in shares.items()}})
    return pd.DataFrame(rows)


def fl_figure(table: pd.DataFrame) -> go.Figure:
    """Fusion Level per system with its 95% interval, the paper's printed value beside it."""
    t = table.dropna(subset=["fl"])
    fig = go.Figure([
        go.Bar(x=t.system, y=t.fl, name="ours (95% bootstrap interval)",
               error_y=dict(type="data", symmetric=False, array=t.fl_ci_high - t.fl, arrayminus=t.fl - t.fl_ci_low)),
        go.Scatter(x=t.system, y=t.paper_fl, mode="markers", name="paper (as printed)",
                   marker=dict(symbol="diamond", size=11, color="black")),
    ])
    fig.update_layout(template="plotly_white", title="Fusion Level per system", yaxis_title="FL (%)",
                      yaxis_range=[0, 100], width=720, height=420, legend=dict(orientation="h", y=-0.2))
    return fig


def differences_figure(differences: pd.DataFrame, systems=FOCUS) -> go.Figure:
    """A forest plot: FL(system) - FL(versus) with its paired 95% interval, for ``systems``."""
    fig = go.Figure()
    for s in systems:
        d = differences[differences.system == s]
        fig.add_trace(go.Scatter(x=d.difference, y=[f"{s} - {v}" for v in d.versus], mode="markers", name=s,
                                 error_x=dict(type="data", symmetric=False, array=d.ci_high - d.difference,
                                              arrayminus=d.difference - d.ci_low)))
    fig.add_vline(x=0, line_color="grey")
    fig.update_layout(template="plotly_white", title="Paired differences in Fusion Level (95% bootstrap interval)",
                      xaxis_title="FL difference (percentage points)", width=720, height=560,
                      yaxis=dict(autorange="reversed"), legend=dict(orientation="h", y=-0.15))
    return fig


def musicality_figure(table: pd.DataFrame) -> go.Figure:
    """Expert / newbie / robot shares per system, one bar per listener group, stacked."""
    fig = go.Figure()
    for answer in QUESTIONS["musicality"]:
        for group, pattern in (("qualified", ""), ("not qualified", "/")):
            t = table[table.group == group]
            fig.add_trace(go.Bar(x=[t.system, [group] * len(t)], y=t[answer], name=f"{answer} ({group})",
                                 marker_pattern_shape=pattern, legendgroup=answer))
    fig.update_layout(barmode="stack", template="plotly_white", title="Who composed it? (percent of answers)",
                      yaxis_title="%", width=900, height=460)
    return fig


FIGURES = {"fl": "Fusion Level per system", "differences": "paired differences", "musicality": "musicality"}


def figure(name: str, df: pd.DataFrame) -> go.Figure:
    """One of :data:`FIGURES` from a (filtered) answers frame."""
    if name == "fl":
        return fl_figure(analysis.table_ii(df))
    if name == "differences":
        return differences_figure(paired_differences(df))
    return musicality_figure(musicality(df))


def image(fig: go.Figure, fmt: str) -> bytes:
    """The figure as ``svg`` or ``png`` bytes (Kaleido and the system's Chromium, offline)."""
    import tempfile
    from pathlib import Path

    from fusion.render import plots

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"figure.{fmt}"
        plots.write_images({path: (fig, fig.layout.width or 720, fig.layout.height or 420)})
        return path.read_bytes()


def side_by_side(table: pd.DataFrame) -> pd.DataFrame:
    """Table II, ours beside the paper's: the paper's rows in its order, then ours."""
    ours = table.set_index("system")
    order = list(paper.TABLE_II) + [s for s in MAIN_GROUPS if s not in paper.TABLE_II]
    rows = []
    for s in order:
        row = {"system": s}
        for lab in paper.LABELS + ("fl",):
            row[f"paper {lab}"] = paper.TABLE_II.get(s, {}).get(lab, np.nan)
            row[f"ours {lab}"] = ours.loc[s, lab] if s in ours.index else np.nan
        row["ours fl 95% CI"] = (f"{ours.loc[s, 'fl_ci_low']:.1f}-{ours.loc[s, 'fl_ci_high']:.1f}"
                                 if s in ours.index and not pd.isna(ours.loc[s, "fl_ci_low"]) else "n/a")
        row["answers"] = int(ours.loc[s, "answers"]) if s in ours.index else 0
        rows.append(row)
    return pd.DataFrame(rows)


def latex(table: pd.DataFrame) -> str:
    """:func:`side_by_side` as a LaTeX tabular (booktabs), ``n/a`` for missing values."""
    t = side_by_side(table)
    shown = t.copy()
    for c in shown.columns:
        if shown[c].dtype.kind == "f":
            shown[c] = shown[c].map(lambda v: "n/a" if pd.isna(v) else f"{v:.1f}")
    shown.columns = [c.replace("_", " ") for c in shown.columns]
    return shown.to_latex(index=False, escape=True, column_format="l" + "r" * (len(shown.columns) - 1),
                          caption="Fusion recognition (percent of answers) and Fusion Level: the paper's "
                                  "Table II beside ours.", label="tab:listening")
