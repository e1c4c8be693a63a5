"""Training curves from a run's ``log.jsonl``: a plotly figure of the MLE losses, every critic's
Wasserstein estimate and the policy-gradient losses, written as HTML next to a local copy of
plotly.js (no network needed to open it)."""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from fusion.render import plots


def read_log(path: str | Path) -> list[dict]:
    out = []
    for line in Path(path).read_text().splitlines():
        if line.strip():
            out.append(json.loads(line))
    return out


def figure(records: list[dict], title: str = "FusionGAN training") -> go.Figure:
    """Three panels: MLE NLL per token (train, validation); critic estimates W per critic and
    stage, in order of critic steps; policy-gradient loss per generator and stage."""
    fig = make_subplots(rows=3, cols=1, subplot_titles=(
        "MLE: negative log-likelihood per token (nats)",
        "Critics: Wasserstein estimate (objective of Eq. 8 / Eq. 11 / real - generated)",
        "Generators: policy-gradient loss"), vertical_spacing=0.08)
    series: dict[tuple, list] = defaultdict(list)
    for r in records:
        stage = r.get("stage", "")
        if stage.startswith("mle_") and "nll" in r:
            series[("mle", f"{r['model']} train"), 1].append((r["step"], r["nll"]))
            if "val_nll" in r:
                series[("mle", f"{r['model']} validation"), 1].append((r["step"], r["val_nll"]))
        elif "critic" in r and "w" in r:
            series[("w", f"{stage}: {r['critic']}"), 2].append(r["w"])
        elif "pg_loss" in r:
            series[("pg", f"{stage}: {r['model']}"), 3].append(r["pg_loss"])
    for ((kind, name), row), pts in series.items():
        if kind == "mle":
            x, y = zip(*pts)
        else:
            x, y = list(range(len(pts))), pts
        fig.add_trace(go.Scatter(x=list(x), y=list(y), name=name, mode="lines",
                                 legendgroup=str(row)), row=row, col=1)
    fig.update_xaxes(title_text="step", row=1, col=1)
    fig.update_xaxes(title_text="critic step", row=2, col=1)
    fig.update_xaxes(title_text="generator step", row=3, col=1)
    fig.update_layout(title=title, height=1100, template="plotly_white")
    return fig


def write(records: list[dict], out_html: str | Path, title: str = "FusionGAN training") -> Path:
    return plots.write_html(figure(records, title), out_html)
