"""Jazz: the Weimar Jazz Database (WJazzD), 456 transcribed solos.

Two sources with the same columns:

* the JazzTube CSV export: ``<data>/wjazzd/csv_melody/*.csv`` (one row per note) and
  ``<data>/wjazzd/solo_info.csv`` (one row per solo; ``melody_csv`` names the note file);
* the official SQLite file ``<data>/wjazzd/wjazzd.db``: tables ``melody`` and ``solo_info``,
  joined on ``melid``.

Onsets and durations in beats come from the metrical grid, not from seconds at an average
tempo (swing and rubato would smear them): a note in bar ``b``, beat ``k`` (1-based), tatum ``t``
(1-based) of ``division`` tatums in that beat starts at

    onset = start(b) + (k - 1 + (t - 1) / division) * 4 / denom      (quarter notes)

where ``start(b)`` adds up the lengths (``period * 4 / denom``) of the bars before ``b``, counted
from the first bar of the solo (which may be a pickup, numbered 0 or negative). The duration in
beats is ``duration / beatdur`` (seconds over the local beat length), cut where the next note
starts so the solo stays one voice.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd

from fusion import paths
from fusion.data import keys
from fusion.melody import Melody, Note

MELODY_COLUMNS = ["bar", "beat", "beatdur", "denom", "division", "duration", "num", "onset",
                  "period", "pitch", "tatum"]


def melody_from_rows(rows: pd.DataFrame, info: dict) -> Melody:
    """One solo's note rows (the ``melody`` table/CSV columns) and its ``solo_info`` row ->
    :class:`Melody` (pitches as played, not yet transposed)."""
    rows = rows.sort_values("onset", kind="stable")
    bars = rows["bar"].to_numpy()
    bar_len = (rows["period"] * 4.0 / rows["denom"]).to_numpy()
    # Start of every bar from the first one; bars without notes take the last known length.
    first = int(bars.min())
    lengths: dict[int, float] = {}
    for b, length in zip(bars, bar_len):
        lengths.setdefault(int(b), float(length))
    start: dict[int, float] = {}
    pos, last_len = 0.0, float(bar_len[0])
    for b in range(first, int(bars.max()) + 1):
        last_len = lengths.get(b, last_len)
        start[b] = pos
        pos += last_len
    beat_q = (4.0 / rows["denom"]).to_numpy()
    onsets = [start[int(b)] + (k - 1 + (t - 1) / d) * q
              for b, k, t, d, q in zip(bars, rows["beat"], rows["tatum"], rows["division"], beat_q)]
    durations = (rows["duration"] / rows["beatdur"]).to_numpy() * beat_q
    pitches = rows["pitch"].round().astype(int).to_numpy()
    notes = []
    for i, (p, on, dur) in enumerate(zip(pitches, onsets, durations)):
        if i + 1 < len(onsets) and onsets[i + 1] > on:
            dur = min(dur, onsets[i + 1] - on)
        notes.append(Note(int(p), float(on), float(max(dur, 1e-6))))

    tonic, mode = keys.parse_wjazzd_key(info.get("key"))
    num, den = int(rows["num"].iloc[0]), int(rows["denom"].iloc[0])
    sig = str(info.get("signature") or "")
    if "/" in sig:
        num, den = (int(x) for x in sig.split("/"))
    tempo = float(info.get("avgtempo") or 120.0)
    return Melody(
        notes=tuple(notes), genre="jazz", source_id=f"wjazzd:{int(info['melid'])}",
        title=f"{info.get('performer', '')} - {info.get('title', '')}".strip(" -"),
        key_tonic=tonic, key_mode=mode, key_source="annotated" if tonic is not None else None,
        meter=(num, den), tempo=tempo,
        extra={"style": info.get("style"), "instrument": info.get("instrument"),
               "melody_csv": info.get("melody_csv")},
    )


def load_csv(folder: Path | None = None) -> list[Melody]:
    """All solos of the JazzTube CSV export in ``folder`` (default ``<data>/wjazzd``)."""
    folder = Path(folder or paths.wjazzd_dir())
    info_path = folder / "solo_info.csv"
    if not info_path.is_file():
        raise FileNotFoundError(f"WJazzD CSV export not found: {info_path} is missing "
                                f"(set FUSION_DATA to the folder that holds wjazzd/)")
    info = pd.read_csv(info_path, keep_default_na=False)
    out = []
    for row in info.to_dict("records"):
        rows = pd.read_csv(folder / "csv_melody" / row["melody_csv"], usecols=MELODY_COLUMNS)
        out.append(melody_from_rows(rows, row))
    return out


def load_sqlite(db_path: Path | None = None) -> list[Melody]:
    """All solos of the official SQLite database (tables ``melody`` and ``solo_info``)."""
    db_path = Path(db_path or paths.wjazzd_dir() / "wjazzd.db")
    if not db_path.is_file():
        raise FileNotFoundError(f"WJazzD database not found: {db_path}")
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as con:
        info = pd.read_sql_query("SELECT * FROM solo_info ORDER BY melid", con)
        cols = ", ".join(["melid"] + MELODY_COLUMNS)
        notes = pd.read_sql_query(f"SELECT {cols} FROM melody ORDER BY melid, onset", con)
    info = info.fillna("")
    by_id = dict(tuple(notes.groupby("melid", sort=False)))
    return [melody_from_rows(by_id[row["melid"]], row) for row in info.to_dict("records")
            if row["melid"] in by_id]


def source_files(source: str) -> list[Path]:
    """The files a source reads (for the cache key)."""
    folder = paths.wjazzd_dir()
    if source == "sqlite":
        return [folder / "wjazzd.db"]
    return [folder / "solo_info.csv", *sorted((folder / "csv_melody").glob("*.csv"))]


def resolve_source(source: str = "auto") -> str:
    """``auto`` -> ``csv`` when the CSV export is there, else ``sqlite``."""
    if source != "auto":
        return source
    folder = paths.wjazzd_dir()
    if (folder / "solo_info.csv").is_file():
        return "csv"
    if (folder / "wjazzd.db").is_file():
        return "sqlite"
    raise FileNotFoundError(
        f"no Weimar Jazz Database in {folder}: put the CSV export (csv_melody/, solo_info.csv) "
        f"or wjazzd.db there, or run `python -m fusion data download`")


def load(source: str = "auto") -> list[Melody]:
    """All WJazzD solos from the given source (``csv``, ``sqlite`` or ``auto``)."""
    source = resolve_source(source)
    return load_sqlite() if source == "sqlite" else load_csv()
