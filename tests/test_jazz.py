"""Weimar Jazz Database loader: counts, grid onsets, and the SQLite path."""
import csv
import sqlite3

import pandas as pd
import pytest

from fusion.data import jazz

SOLO = "ArtPepper_Anthropology_Solo.csv"  # Art Pepper, "Anthropology", Bb major, 4/4


@pytest.mark.data
def test_reads_all_456_solos_and_200814_notes(jazz_melodies):
    assert len(jazz_melodies) == 456
    assert sum(len(m) for m in jazz_melodies) == 200_814
    assert len({m.source_id for m in jazz_melodies}) == 456


@pytest.mark.data
def test_first_notes_of_a_named_solo_equal_the_csv_rows(jazz_melodies, wjazzd_dir):
    melody = next(m for m in jazz_melodies if m.extra["melody_csv"] == SOLO)
    assert melody.title == "Art Pepper - Anthropology"
    assert (melody.key_tonic, melody.key_mode, melody.meter) == (10, "major", (4, 4))
    with open(wjazzd_dir / "csv_melody" / SOLO) as f:
        rows = list(csv.DictReader(f))[:40]
    first_bar = int(rows[0]["bar"])
    for note, row in zip(melody.notes, rows):
        # bar/beat/tatum grid of a 4/4 solo, in quarter notes from the first bar's downbeat
        onset = (int(row["bar"]) - first_bar) * 4 + int(row["beat"]) - 1 \
            + (int(row["tatum"]) - 1) / int(row["division"])
        assert note.pitch == int(float(row["pitch"]))
        assert note.onset == pytest.approx(onset, abs=1e-9)
        assert note.duration <= float(row["duration"]) / float(row["beatdur"]) + 1e-9
    # the third note: bar 0, beat 2, tatum 4 of 4 -> a sixteenth before beat 3
    assert melody.notes[2].onset == pytest.approx(1.75)
    # it lasts 0.0813 s / 0.2866 s = 0.284 beats, cut at the next note (beat 3) to 0.25
    assert melody.notes[2].duration == pytest.approx(0.25)
    assert melody.notes[1].duration == pytest.approx(0.17124716553287983 / 0.28662131519274325)


@pytest.mark.data
def test_onsets_strictly_increase_and_notes_do_not_overlap(jazz_melodies):
    for m in jazz_melodies:
        for a, b in zip(m.notes, m.notes[1:]):
            assert b.onset > a.onset, m.source_id
            assert a.end <= b.onset + 1e-9, m.source_id
        assert all(n.duration > 0 for n in m.notes)


@pytest.mark.data
def test_onsets_come_from_the_grid_not_from_seconds(jazz_melodies, wjazzd_dir):
    """Seconds at the average tempo drift away from the bar lines; grid onsets do not."""
    melody = next(m for m in jazz_melodies if m.extra["melody_csv"] == SOLO)
    rows = pd.read_csv(wjazzd_dir / "csv_melody" / SOLO)
    by_seconds = (rows["onset"] - rows["onset"].iloc[0]) * melody.tempo / 60
    grid = pd.Series([n.onset for n in melody.notes])
    assert (by_seconds - grid).abs().max() > 1.0  # seconds-based beats drift by > 1 beat
    downbeats = [n for n, r in zip(melody.notes, rows.itertuples()) if r.beat == 1 and r.tatum == 1]
    assert downbeats and all(n.onset % 4 == 0 for n in downbeats)


def _write_sqlite(path, wjazzd_dir, names):
    """A small wjazzd.db with the official table names, built from the CSV export's rows."""
    info = pd.read_csv(wjazzd_dir / "solo_info.csv", keep_default_na=False)
    info = info[info["melody_csv"].isin(names)]
    with sqlite3.connect(path) as con:
        info.drop(columns=["melody_csv"]).to_sql("solo_info", con, index=False)
        for row in info.itertuples():
            notes = pd.read_csv(wjazzd_dir / "csv_melody" / row.melody_csv)
            notes.insert(0, "melid", row.melid)
            notes.insert(0, "eventid", range(len(notes)))
            notes.to_sql("melody", con, index=False, if_exists="append")
    return info


@pytest.mark.data
def test_sqlite_database_reads_like_the_csv_export(tmp_path, wjazzd_dir, jazz_melodies):
    names = [SOLO, "JohnColtrane_GiantSteps-1_Solo.csv", "MilesDavis_SoWhat_Solo.csv"]
    names = [n for n in names if (wjazzd_dir / "csv_melody" / n).is_file()]
    assert len(names) >= 2
    info = _write_sqlite(tmp_path / "wjazzd.db", wjazzd_dir, names)
    from_db = jazz.load_sqlite(tmp_path / "wjazzd.db")
    assert len(from_db) == len(info)
    by_id = {m.source_id: m for m in jazz_melodies}
    for m in from_db:
        ref = by_id[m.source_id]
        assert m.notes == ref.notes
        assert (m.key_tonic, m.key_mode, m.meter, m.tempo, m.title) == \
            (ref.key_tonic, ref.key_mode, ref.meter, ref.tempo, ref.title)


def test_missing_data_gives_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="solo_info.csv"):
        jazz.load_csv(tmp_path)
    with pytest.raises(FileNotFoundError, match="wjazzd.db"):
        jazz.load_sqlite(tmp_path / "wjazzd.db")
