"""Everything a visitor made in one browser session, kept so that nothing is lost when the page
shows the next melody: one zip with every melody's MIDI file, its audio (WAV, rendered from that
MIDI file with the demo's SoundFont), a ``settings.json`` with every setting and the seed (and the
link that makes it again, where there is one), and a README that lists them.

The page keeps the list in a ``gr.State`` (one per browser tab, on the server); an entry is a small
dict: MIDI bytes and settings, no audio (that is rendered when the zip is made).
"""
from __future__ import annotations

import json
import re
import tempfile
import time
import zipfile
from pathlib import Path

from fusion.render import midi
from fusion.render.audio import Renderer

#: what made an entry: Generate, Continue, or one melody of a batch
KINDS = {"generate": "generated", "continue": "continued from a start", "batch": "from a batch"}


def entry(kind: str, settings: dict, midi_data: bytes, provenance: str = "", link: str = "") -> dict:
    """One melody of the session.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    settings : dict
        Every setting it was made with, the seed as used included.
    midi_data : bytes
        Its MIDI file, as offered for download.
    provenance : str
        What the page said about where it comes from (Markdown).
    link : str
        The query string that makes it again (empty when there is none, e.g. for a continuation).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return {"kind": kind, "settings": dict(settings), "midi": bytes(midi_data), "provenance": provenance,
            "link": link, "made": time.strftime("%Y-%m-%d %H:%M:%S")}


def from_batch(zip_path: str | Path, settings: dict, provenance: str = "") -> list[dict]:
    """One entry per melody of a batch zip (``NN-<system>-seed<seed>.mid``), seeds counted up."""
    entries = []
    with zipfile.ZipFile(zip_path) as z:
        for name in sorted(n for n in z.namelist() if n.endswith(".mid")):
            found = re.search(r"seed(\d+)\.mid$", name)
            seed = int(found.group(1)) if found else settings.get("seed")
            entries.append(entry("batch", {**settings, "seed": seed}, z.read(name), provenance))
    return entries


def _stem(i: int, e: dict) -> str:
    s = e["settings"]
    system = re.sub(r"[^A-Za-z0-9_+-]+", "-", str(s.get("system", "melody")))
    return f"{i:02d}-{system}-seed{s.get('seed')}"


def readme(entries: list[dict]) -> str:
    """The zip's README: what is in it, one paragraph per melody."""
    lines = ["FusionGAN: the melodies of one session in the demo", "",
             "Each folder holds one melody: melody.mid (the MIDI file), melody.wav (its audio, rendered from",
             "the MIDI file), settings.json (every setting and the seed; 'link' opens the demo with them).", ""]
    for i, e in enumerate(entries, 1):
        text = e["provenance"].replace("**", "").replace("`", "") or "(no provenance recorded)"
        lines += [f"{_stem(i, e)}/ ({KINDS[e['kind']]}, {e['made']})", f"  {text}", ""]
    return "\n".join(lines)


def write_zip(entries: list[dict], renderer: Renderer, folder: str | Path | None = None) -> Path:
    """The session as a zip file in ``folder`` (a new temporary folder by default); its path."""
    if not entries:
        raise ValueError("nothing made in this session yet: generate a melody first")
    folder = Path(folder or tempfile.mkdtemp(prefix="fusiongan-session-"))
    path = folder / f"fusiongan-session-{len(entries)}-melodies.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for i, e in enumerate(entries, 1):
            stem = _stem(i, e)
            z.writestr(f"{stem}/melody.mid", e["midi"])
            wav = folder / f"{stem}.wav"
            renderer.write_wav(renderer.render(midi.load_midi(e["midi"])), wav)
            z.write(wav, f"{stem}/melody.wav")
            wav.unlink()
            record = {**e["settings"], "kind": e["kind"], "made": e["made"], "link": e["link"],
                      "provenance": e["provenance"]}
            z.writestr(f"{stem}/settings.json", json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        z.writestr("README.txt", readme(entries) + "\n")
    return path
