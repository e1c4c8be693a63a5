"""Corpora: filters, piece-level splits, windows, the cache and the stats command."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fusion.data import cache, corpus
from fusion.data.tokens import Vocabulary

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def jazz_corpus(jazz_melodies):
    return corpus.load("jazz", corpus.Settings(jazz_source="csv"))


@pytest.mark.data
def test_splits_are_disjoint_by_piece_and_cover_the_kept_pieces(jazz_corpus):
    ids = {s: {m.source_id for m in jazz_corpus.pieces[s]} for s in corpus.SPLITS}
    assert not ids["train"] & ids["val"] and not ids["train"] & ids["test"] and not ids["val"] & ids["test"]
    assert sum(len(v) for v in ids.values()) == jazz_corpus.filter_counts["major key"]
    # roughly 80/10/10
    assert 0.7 < len(ids["train"]) / jazz_corpus.filter_counts["major key"] < 0.9
    # a window belongs to its piece's split
    for split in corpus.SPLITS:
        assert {w.source_id for w in jazz_corpus.windows(split)} <= ids[split]


def test_splits_are_deterministic_and_depend_on_the_seed():
    a = [corpus.split_of(f"piece{i}", corpus.Settings()) for i in range(2000)]
    b = [corpus.split_of(f"piece{i}", corpus.Settings()) for i in range(2000)]
    c = [corpus.split_of(f"piece{i}", corpus.Settings(split_seed=1)) for i in range(2000)]
    assert a == b and a != c


@pytest.mark.data
def test_major_filter_and_all_modes(jazz_melodies):
    major = corpus.load("jazz", corpus.Settings(jazz_source="csv"))
    every = corpus.load("jazz", corpus.Settings(jazz_source="csv", modes="all"))
    n_major = sum(len(v) for v in major.pieces.values())
    n_all = sum(len(v) for v in every.pieces.values())
    assert n_all == 456 > n_major
    assert all(m.key_mode == "major" for v in major.pieces.values() for m in v)
    assert all(m.key_tonic == 0 for v in every.pieces.values() for m in v)


@pytest.mark.data
def test_windows_span_four_bars_start_on_bar_lines_and_round_trip(jazz_corpus):
    vocab = Vocabulary()
    settings = jazz_corpus.settings
    seqs = jazz_corpus.sequences("val", vocab)
    wins = jazz_corpus.windows("val")
    assert len(seqs) == len(wins) > 100
    for ids, w in zip(seqs, wins):
        decoded = vocab.decode(ids)
        assert decoded.to_ticks() == w.to_ticks()  # the window's notes, exactly
        ticks = sum(int(n.split("_")[1]) for n in vocab.describe(ids) if n.startswith("DUR_"))
        assert ticks == settings.window_beats * vocab.ticks_per_beat  # exactly 16 beats
        assert len(w.notes) >= settings.min_notes
        assert w.extra["window_start"] % w.bar_beats == 0


def test_whole_windows_never_run_past_the_piece():
    """A 10-bar tune (40 beats, 4/4): windows start every 2 bars while a note is left, so the
    last ones (at bars 6 and 8) run past its end and would be padded with a final rest; with
    ``whole_windows`` they are left out. A tune shorter than one window keeps its first."""
    from fusion.melody import Melody

    tune = Melody.from_notes([(60 + i % 5, float(i), 1.0) for i in range(40)])
    plain, whole = corpus.Settings(), corpus.Settings(whole_windows=True)
    assert corpus.window_starts(tune, plain) == [0.0, 8.0, 16.0, 24.0, 32.0]
    assert corpus.window_starts(tune, whole) == [0.0, 8.0, 16.0, 24.0]  # 24 + 16 = 40, the end
    short = Melody.from_notes([(60, float(i), 1.0) for i in range(10)])
    assert corpus.window_starts(short, whole) == [0.0]
    for w in corpus.windows(tune, whole):  # every window is the piece's own music to its last beat
        assert w.extra["window_start"] + 16 <= 40 and w.notes[-1].onset + w.notes[-1].duration == 16


@pytest.mark.data
def test_augmented_sequences_are_transposed_copies(jazz_corpus):
    vocab = Vocabulary()
    plain = jazz_corpus.sequences("test", vocab)
    moved = jazz_corpus.sequences("test", vocab, augment=(-5, 6))
    assert len(plain) == len(moved) and plain != moved
    for a, b in zip(plain[:200], moved[:200]):
        pa, pb = vocab.decode(a).pitches, vocab.decode(b).pitches
        assert len({y - x for x, y in zip(pa, pb)}) == 1  # one shift per window


def test_settings_are_checked():
    with pytest.raises(ValueError, match="four bars"):
        corpus.Settings(window_beats=4.5)
    with pytest.raises(ValueError, match="modes"):
        corpus.Settings(modes="lydian")


def test_cache_builds_once_and_notices_changed_sources(tmp_path, monkeypatch):
    monkeypatch.setenv("FUSION_CACHE", str(tmp_path / "cache"))
    src = tmp_path / "source.txt"
    src.write_text("one")
    calls = []

    def build():
        calls.append(1)
        return {"value": src.read_text()}

    assert cache.cached("t", [src], build, x=1) == {"value": "one"}
    assert cache.cached("t", [src], build, x=1) == {"value": "one"}
    assert len(calls) == 1
    cache.cached("t", [src], build, x=2)  # other settings: another entry
    assert len(calls) == 2
    src.write_text("two!")  # the source changed: rebuilt
    assert cache.cached("t", [src], build, x=1) == {"value": "two!"}
    assert len(calls) == 3
    # a damaged entry is rebuilt, not fatal
    for f in (tmp_path / "cache").glob("*.pkl"):
        f.write_bytes(b"garbage")
    assert cache.cached("t", [src], build, x=1) == {"value": "two!"}
    assert len(calls) == 4


@pytest.mark.data
@pytest.mark.slow
def test_stats_command_json_shape(kern_parsed, jazz_melodies):
    out = subprocess.run([sys.executable, "-m", "fusion", "data", "stats", "--json"],
                         cwd=ROOT, capture_output=True, text=True, check=True, timeout=600,
                         env={**os.environ, "FUSION_DATA": os.environ.get("FUSION_DATA", "")} if
                         os.environ.get("FUSION_DATA") else None)
    st = json.loads(out.stdout)
    for genre in ("jazz", "folk"):
        s = st[genre]
        assert set(s["windows"]) == {"train", "val", "test"}
        assert all(v > 0 for v in s["windows"].values())
        assert s["kept"]["read"] == s["pieces"]
    assert st["jazz"]["pieces"] == 456 and st["jazz"]["notes"] == 200_814
    assert st["folk"]["pieces"] >= 8400
    assert st["jazz"]["meters"]["4/4"] > 400 and "2/4" in st["folk"]["meters"]
    assert st["jazz"]["keys"]["Bb major"] >= 75


@pytest.mark.data
@pytest.mark.slow
def test_stats_command_text_and_bad_arguments():
    out = subprocess.run([sys.executable, "-m", "fusion", "data", "stats", "--genres", "jazz"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0 and "pieces read" in out.stdout and "windows" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "fusion", "data", "stats", "--modes", "lydian"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
