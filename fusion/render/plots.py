"""Writing plotly figures to disk, offline: HTML next to one local copy of plotly.js, and PNG
through Kaleido driving the system's Chromium.

The PNG export never reaches the network: MathJax is off (Kaleido would fetch it from a CDN),
plotly.js is the copy inside the plotly package, and Chromium is given a proxy on a closed local
port, so any request it might still try fails on this machine.
"""
from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import plotly
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
DEAD_PROXY = "127.0.0.1:9"  # the discard port: nothing listens, every proxied request fails


def write_html(fig: go.Figure, path: str | Path, js_dir: str | Path | None = None) -> Path:
    """``fig`` as HTML that loads ``plotly.min.js`` from ``js_dir`` (default: the HTML's own
    folder, or its parent folder when the parent already holds one, so that a report's subfolder
    does not keep a second 4.8 MB copy; written there once), by a relative link, so the folder can
    be moved or served."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if js_dir:
        js_dir = Path(js_dir)
    else:
        here, up = path.parent, path.parent.parent
        js_dir = up if not (here / "plotly.min.js").exists() and (up / "plotly.min.js").exists() else here
    js = js_dir / "plotly.min.js"
    if not js.exists():
        js_dir.mkdir(parents=True, exist_ok=True)
        js.write_text(get_plotlyjs())
    fig.write_html(str(path), include_plotlyjs=os.path.relpath(js, path.parent))
    return path


def browser() -> str:
    """The Chromium that renders PNGs: ``$BROWSER_PATH`` or Debian's ``chromium``."""
    found = os.environ.get("BROWSER_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise FileNotFoundError("PNG export needs Chromium: `apt-get install -y chromium` "
                                "(make test and make evaluate install it), or set BROWSER_PATH")
    return found


def write_images(figures: dict[str | Path, tuple[go.Figure, int, int]]) -> list[Path]:
    """Write each ``path -> (figure, width, height)`` in one Chromium session, in the format its
    suffix names (``.png`` or ``.svg``)."""
    import kaleido

    os.environ["BROWSER_PATH"] = browser()

    async def run():
        async with kaleido.Kaleido(mathjax=False, plotlyjs=str(PLOTLY_JS), proxy_server=DEAD_PROXY) as k:
            for path, (fig, width, height) in figures.items():
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                fmt = Path(path).suffix.lstrip(".").lower() or "png"
                await k.write_fig(fig, path=str(path), opts={"format": fmt, "width": width, "height": height})

    asyncio.run(run())
    return [Path(p) for p in figures]


def write_png(figures: dict[str | Path, tuple[go.Figure, int, int]]) -> list[Path]:
    """Write each ``path -> (figure, width, height)`` as PNG in one Chromium session."""
    return write_images({Path(p).with_suffix(".png"): v for p, v in figures.items()})
