"""A piano-roll picture of a melody (plotly), for the app: time in beats across, pitch up."""
from __future__ import annotations

import plotly.graph_objects as go

from fusion.data.keys import PITCH_CLASS_NAMES
from fusion.melody import Melody


def pitch_name(pitch: int) -> str:
    """Scientific pitch name: 60 -> ``C4``."""
    return f"{PITCH_CLASS_NAMES[pitch % 12]}{pitch // 12 - 1}"


def figure(melody: Melody, title: str = "") -> go.Figure:
    """One horizontal bar per note (onset to end, at its pitch), bar lines dotted."""
    notes = melody.notes
    fig = go.Figure(go.Bar(
        base=[n.onset for n in notes], x=[n.duration for n in notes], y=[n.pitch for n in notes],
        orientation="h", width=0.8, marker_color="#4c72b0",
        customdata=[pitch_name(n.pitch) for n in notes],
        hovertemplate="%{customdata}<br>beat %{base:.2f}, %{x:.2f} beats<extra></extra>",
    ))
    end = melody.duration
    bar = melody.bar_beats
    # bar lines as one list of shapes (one add_vline call per bar costs ~4 ms each)
    shapes = [dict(type="line", xref="x", yref="paper", x0=k * bar, x1=k * bar, y0=0, y1=1,
                   line=dict(dash="dot", color="#bbb", width=1)) for k in range(int(end // bar) + 1)]
    lo, hi = (min(melody.pitches), max(melody.pitches)) if notes else (60, 72)
    ticks = [p for p in range(lo - 1, hi + 2) if p % 12 in (0, 7)]
    fig.update_layout(
        title=title or None, height=300, margin=dict(l=50, r=10, t=40 if title else 10, b=40),
        xaxis_title="beats (quarter notes)", yaxis=dict(range=[lo - 1.5, hi + 1.5], tickvals=ticks,
                                                        ticktext=[pitch_name(p) for p in ticks]),
        bargap=0, showlegend=False, plot_bgcolor="white", shapes=shapes,
    )
    return fig
