"""A piano-roll picture of a melody, for the app: time in beats across, pitch up (a plotly figure,
and a small inline-SVG thumbnail for lists of melodies)."""
from __future__ import annotations

import plotly.graph_objects as go

from fusion.data.keys import PITCH_CLASS_NAMES
from fusion.melody import Melody


NEW, PRIMER = "#4c72b0", "#9a9a9a"  # the notes' colour; a continuation's primer in grey


def pitch_name(pitch: int) -> str:
    """Scientific pitch name: 60 -> ``C4``."""
    return f"{PITCH_CLASS_NAMES[pitch % 12]}{pitch // 12 - 1}"


def wrap(text: str, width: int = 40) -> str:
    """A long title broken into lines of at most about ``width`` characters (plotly does not wrap
    titles; on a phone a long piece title would run off the picture)."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "<br>".join(lines + ([line] if line else []))


def pitch_ticks(lo: int, hi: int) -> list[int]:
    """The pitches named on the vertical axis: every C and G, or only the Cs when the melody spans
    more than three octaves (so that the names never crowd into each other)."""
    classes = (0, 7) if hi - lo <= 36 else (0,)
    return [p for p in range(lo - 1, hi + 2) if p % 12 in classes]


def figure(melody: Melody, title: str = "", boundary: float | None = None) -> go.Figure:
    """One horizontal bar per note (onset to end, at its pitch), bar lines dotted. In a
    continuation, ``boundary`` (beats) is where the player's bars end: their notes are grey, a
    solid line and the words "new bars" mark where the new ones begin."""
    notes = melody.notes
    fig = go.Figure(go.Bar(
        base=[n.onset for n in notes], x=[n.duration for n in notes], y=[n.pitch for n in notes],
        orientation="h", width=0.8,
        marker_color=[PRIMER if boundary is not None and n.onset < boundary else NEW for n in notes],
        customdata=[pitch_name(n.pitch) for n in notes],
        hovertemplate="%{customdata}<br>beat %{base:.2f}, %{x:.2f} beats<extra></extra>",
    ))
    end = melody.duration
    bar = melody.bar_beats
    # bar lines as one list of shapes (one add_vline call per bar costs ~4 ms each)
    shapes = [dict(type="line", xref="x", yref="paper", x0=k * bar, x1=k * bar, y0=0, y1=1,
                   line=dict(dash="dot", color="#bbb", width=1)) for k in range(int(end // bar) + 1)]
    if boundary is not None:
        shapes.append(dict(type="line", xref="x", yref="paper", x0=boundary, x1=boundary, y0=0, y1=1,
                           line=dict(color="#222", width=2)))
    lo, hi = (min(melody.pitches), max(melody.pitches)) if notes else (60, 72)
    ticks = pitch_ticks(lo, hi)
    pad = max(1.5, 0.06 * (hi - lo))  # room above and below: the lowest name stays clear of the beat numbers
    title = wrap(title)
    extra = 18 * title.count("<br>")  # each further title line gets its own room
    height = 300 + extra
    fig.update_layout(  # the title starts below the page's label of the plot (about 30 px)
        title=dict(text=title, font=dict(size=13), yref="container", y=1 - 34 / height, yanchor="top")
        if title else None,
        height=height, margin=dict(l=50, r=10, t=60 + extra if title else 30, b=40),
        xaxis_title="beats (quarter notes)", yaxis=dict(range=[lo - pad, hi + pad], tickvals=ticks,
                                                        ticktext=[pitch_name(p) for p in ticks]),
        bargap=0, showlegend=False, plot_bgcolor="white", shapes=shapes,
        annotations=[] if boundary is None else [dict(x=boundary, y=1, xref="x", yref="paper", text="new bars ▸",
                                                      showarrow=False, xanchor="left", yanchor="bottom")],
    )
    return fig


def thumbnail(melody: Melody, width: int = 240, height: int = 64) -> str:
    """A small piano roll as inline SVG (no script, no figure library): one dash per note, bar
    lines faint; a glance at the melody's shape beside its player."""
    notes, bar = melody.notes, melody.bar_beats
    end = max(melody.duration, bar)
    lo, hi = (min(melody.pitches), max(melody.pitches)) if notes else (60, 72)
    x = lambda beats: round(beats / end * (width - 2) + 1, 2)  # noqa: E731
    y = lambda p: round((hi - p) / max(hi - lo, 1) * (height - 8) + 2, 2)  # noqa: E731
    lines = "".join(f'<line x1="{x(k * bar)}" y1="0" x2="{x(k * bar)}" y2="{height}" stroke="#ddd"/>'
                    for k in range(int(end // bar) + 1))
    dashes = "".join(f'<rect class="note" x="{x(n.onset)}" y="{y(n.pitch)}" width="{max(x(n.end) - x(n.onset), 1.5)}" '
                     f'height="4" fill="{NEW}"><title>{pitch_name(n.pitch)}</title></rect>' for n in notes)
    return (f'<svg class="roll-thumbnail" viewBox="0 0 {width} {height}" width="100%" role="img" '
            f'aria-label="piano roll of {len(notes)} notes" style="max-width:{width * 2}px;background:#fff">'
            f'{lines}{dashes}</svg>')
