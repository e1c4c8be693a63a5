"""A melody's settings in the page's address, so that a musician can send a melody to someone:

    /?system=blend&fusion=0&bars=8&tempo=120&temperature=1&seed=42&instrument=Alto+Sax

Opening such a link sets the controls; with the seed in it, Generate makes the same melody again.
A value that is not allowed is left out, and :func:`read` says which and why (the page shows it).
No Gradio here: the page glue is in ``app.py``.
"""
from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from fusion.demo import CHOICES, INSTRUMENTS, LABELS, Settings, check_number

#: the settings a link carries, in the order it writes them
FIELDS = ("system", "fusion", "bars", "tempo", "temperature", "seed", "instrument")
#: the step of each slider: a link value between two steps is rounded to the nearer one
STEPS = {"fusion": 0.05, "temperature": 0.05}
WHOLE = {"bars", "tempo", "seed"}


def query(s: Settings) -> str:
    """The query string (with its ``?``) that brings back these settings, the seed included."""
    s = s.checked()
    values = {"system": s.system, "fusion": f"{s.fusion:g}", "bars": s.bars, "tempo": f"{s.tempo:g}",
              "temperature": f"{s.temperature:g}", "seed": s.seed, "instrument": s.instrument}
    return "?" + urlencode(values)


def _value(name: str, raw: str):
    """One setting from its text in a link, or a ValueError in words."""
    if name == "system":
        if raw not in CHOICES:
            raise ValueError(f"there is no system {raw!r} (the systems: {', '.join(CHOICES)})")
        return raw
    if name == "instrument":
        if raw not in INSTRUMENTS:
            raise ValueError(f"there is no instrument {raw!r} here")
        return raw
    number = check_number(name, raw, integer=name in WHOLE)
    if name in STEPS:
        number = round(round(number / STEPS[name]) * STEPS[name], 2)
    return number


def read(params: Mapping[str, str]) -> tuple[dict, list[str]]:
    """The settings a link sets, and one sentence per value it could not use.

    Parameters
    ----------
    params : mapping
        The page's query parameters (``gr.Request.query_params``); other names are ignored, and a
        setting may be missing (its control keeps its value).

    Returns
    -------
    dict
        ``{name: value}`` for every usable setting of :data:`FIELDS`.
    list of str
        What was left out and why (``bars=500: bars must be from 1 to 32, got '500'``).
    """
    values, problems = {}, []
    for name in FIELDS:
        raw = params.get(name)
        if raw is None:
            continue
        try:
            values[name] = _value(name, raw.strip())
        except ValueError as exc:
            problems.append(f"{name}={raw[:40]}: {exc}")
    return values, problems


def describe(values: dict) -> str:
    """The settings a link set, in a sentence for the page."""
    if not values:
        return ""
    named = {**values}
    if "system" in named:
        named["system"] = LABELS[named["system"]]
    parts = ", ".join(f"{k} {v}" for k, v in named.items())
    tail = " Press Generate to hear it." if "seed" in values else ""
    return f"Settings from the link: {parts}.{tail}"


__all__ = ["FIELDS", "describe", "query", "read"]
