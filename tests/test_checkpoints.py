"""The committed checkpoints (``checkpoints/``, made by ``python -m fusion train --preset paper``):
every system loads and generates valid melodies, and the genre generators sound like their genre
by their pitch-class and duration histograms."""
import json

import numpy as np
import pytest

from fusion.data import corpus
from fusion.model import systems
from fusion.features import pitch_class_and_duration as histograms

ROOT = systems.default_root()
N = 120


@pytest.fixture(scope="module")
def real(wjazzd_dir, essen_dir):
    return {g: histograms(corpus.load(g).windows("test")) for g in ("jazz", "folk")}


def test_every_system_has_a_checkpoint_with_a_model_card():
    assert systems.available() == list(systems.SYSTEMS)
    for name in systems.SYSTEMS:
        cfg = json.loads((ROOT / name / "config.json").read_text())
        assert cfg["training"]["preset"]["name"] == "paper"
        # the full data, in whole windows (8,737 jazz and 25,296 folk training windows)
        assert cfg["training"]["preset"]["whole_windows"] is True
        assert cfg["training"]["data"]["jazz"]["windows"]["train"] > 8000
        assert cfg["training"]["data"]["folk"]["windows"]["train"] > 20000
        assert "preset | `paper`" in (ROOT / name / "README.md").read_text()
    size = sum(f.stat().st_size for f in ROOT.rglob("*") if f.is_file())
    assert size < 50 * 2**20


def test_the_checkpoints_index_names_every_folder():
    """checkpoints/README.md lists each system's folder (it once still said 'the eight systems')."""
    index = (ROOT / "README.md").read_text()
    for name in systems.SYSTEMS:
        assert f"`{name}/`" in index, name


@pytest.mark.parametrize("name", list(systems.SYSTEMS))
def test_system_loads_and_generates_valid_melodies(name):
    s = systems.load_generator(name)
    mels = s.sample(8, bars=4, seed=0)
    assert len(mels) == 8
    for m in mels:
        assert m.notes, name
        assert all(0 <= n.pitch <= 127 and n.duration > 0 for n in m.notes)
        assert all(b.onset >= a.end - 1e-9 for a, b in zip(m.notes, m.notes[1:]))  # one voice
        assert max(n.end for n in m.notes) <= 16 + 1e-9
    assert mels == s.sample(8, bars=4, seed=0)


@pytest.mark.parametrize("genre,other", [("jazz", "folk"), ("folk", "jazz")])
@pytest.mark.data
def test_genre_generators_are_nearer_their_genre(genre, other, real):
    pc, du = histograms(systems.load_generator(genre).sample(N, bars=4, seed=1))
    d = lambda a, b: float(np.linalg.norm(a - b))  # noqa: E731
    assert d(pc, real[genre][0]) < d(pc, real[other][0]), "pitch classes"
    assert d(du, real[genre][1]) < d(du, real[other][1]), "durations"


def test_unknown_or_missing_system_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="unknown system"):
        systems.load_generator("polka")
    with pytest.raises(FileNotFoundError, match="train it with"):
        systems.load_generator("fusion", tmp_path)
