"""Essen folk songs from both sources: counts, the ABC accidental fix, keys and pickups."""
import random
import re
from collections import Counter

import pytest

from fusion.data import folk


def _key(m):
    return m.extra["esac"], m.title.strip()


@pytest.fixture(scope="module")
def matched(abc_parsed, kern_parsed):
    """German tunes present once in each source (same ESAC id and title): (abc, kern) pairs."""
    abc, kern = abc_parsed[0], kern_parsed[0]
    na, nk = Counter(map(_key, abc)), Counter(map(_key, kern))
    a = {_key(m): m for m in abc if na[_key(m)] == 1}
    k = {_key(m): m for m in kern if nk[_key(m)] == 1 and "/deutschl/" in m.source_id}
    return [(a[x], k[x]) for x in sorted(set(a) & set(k))]


@pytest.mark.data
def test_abc_corpus_reads_at_least_8400_tunes(abc_parsed):
    melodies, errors = abc_parsed
    assert len(melodies) >= 8400
    assert len(errors) <= 10, errors[:5]
    assert sum(len(m) for m in melodies) > 400_000


@pytest.mark.data
def test_kern_folder_reads_at_least_8400_tunes(kern_parsed):
    melodies, errors = kern_parsed
    assert len(melodies) >= 8400
    assert len(errors) <= 10, errors[:5]
    assert sum(len(m) for m in melodies) > 400_000


@pytest.mark.data
def test_abc_pitches_equal_kern_pitches_on_a_sample(matched):
    assert len(matched) > 3000
    sample = random.Random(7).sample(matched, 400)
    same = sum(a.pitches == k.pitches for a, k in sample)
    # a few tunes differ between the two editions (lost tuplets, variant readings)
    assert same / len(sample) >= 0.97, same


def _abc_text(abc_melody):
    file_name, x = abc_melody.source_id.split(":")[1:]
    tunes = folk.split_abc_tunes((folk.music21_abc_dir() / file_name).read_text(encoding="utf-8"))
    return next(t for t in tunes if re.search(rf"(?m)^X:{x}$", t))


@pytest.mark.data
def test_without_the_abc_2_1_line_accidentals_go_wrong(matched):
    """The test above would catch the accidental bug: tunes whose bars repeat an altered note
    read wrongly without ``%abc-2.1`` and correctly with it."""
    # an accidental (^ _) on a note that comes back later in the same bar without one
    pattern = re.compile(r"([\^_])([A-Ga-g])[^|\n]*?(?<![\^_=])\2")
    cases = []
    for a, k in matched:
        text = _abc_text(a)
        body = text.split("\nK:", 1)[1]
        if pattern.search(body):
            cases.append((text, k))
        if len(cases) == 30:
            break
    assert len(cases) == 30
    fixed = sum(folk.parse_abc_tune(t).pitches == k.pitches for t, k in cases)
    unfixed_text = [t.replace(folk.ABC_VERSION_LINE + "\n", "", 1) for t, _ in cases]
    unfixed = sum(folk.parse_abc_tune(t).pitches == k.pitches for t, (_, k) in zip(unfixed_text, cases))
    assert fixed >= 28
    assert unfixed <= fixed - 10


@pytest.mark.data
def test_abc_modes_completed_by_analysis_agree_with_kern(matched):
    assert all(a.key_tonic == k.key_tonic for a, k in matched[:500])
    agree = sum(a.key_mode == k.key_mode for a, k in matched)
    assert agree / len(matched) >= 0.95


@pytest.mark.data
def test_german_key_names_are_read(abc_parsed):
    by_title = {m.title: m for m in abc_parsed[0]}
    taiyang = by_title["Taiyang zhaozai chaqishan"]  # K: H in han2.abc
    assert taiyang.key_tonic == 11
    assert any(p % 12 in (1, 3, 6, 8, 10) for p in taiyang.pitches)  # B major's sharps are read


@pytest.mark.data
def test_kern_keys_meters_and_pickup(kern_parsed):
    tune = next(m for m in kern_parsed[0] if m.source_id.endswith("altdeu1/deut3773.krn"))
    assert tune.title == "Das Hildebrandslied"
    assert (tune.key_tonic, tune.key_mode, tune.meter) == (7, "minor", (4, 2))
    # a half-note pickup (2g) sits at the end of bar 0: 8 beats per bar, so it starts at beat 6
    first = tune.notes[0]
    assert (first.pitch, first.onset, first.duration) == (67, 6.0, 2.0)
    assert tune.notes[1].onset == 8.0  # bar 1's downbeat
    # ties are merged: "1dd 1dd}" in bar 2 is two whole notes, the phrase-end tie none
    assert all(n.duration > 0 for n in tune.notes)


@pytest.mark.data
def test_kern_and_abc_parse_the_same_tune_text_alike(essen_dir):
    path = essen_dir / "europa" / "deutschl" / "altdeu1" / "deut3773.krn"
    m = folk.parse_kern_file(path, essen_dir)
    assert m.source_id == "essen:europa/deutschl/altdeu1/deut3773.krn"
    assert m.extra["esac"] == "A0001"
    assert m.pitches[:6] == [67, 70, 70, 72, 72, 74]


def test_a_broken_tune_is_reported_not_fatal(tmp_path):
    (tmp_path / "bad.krn").write_text("**kern\n*M4/4\n=1\n4c\n4qqq@@\n*-\n")
    (tmp_path / "good.krn").write_text("**kern\n*M4/4\n*C:\n=1\n4c\n4d\n4e\n4f\n==\n*-\n")
    (tmp_path / "empty.krn").write_bytes(b"\x00\xff\x00garbage")
    melodies, errors = folk.load_kern(tmp_path, workers=1)
    good = [m for m in melodies if m.source_id == "essen:good.krn"]
    assert good and good[0].pitches == [60, 62, 64, 65]
    assert len(melodies) + len(errors) == 3
