"""Token encoding: exact round trips on the grid, triplets and sixteenths, odd sequences."""
import random

import pytest

from fusion.melody import Melody, Note
from fusion.data.tokens import Vocabulary

V = Vocabulary()


def test_vocabulary_layout_and_storage(tmp_path):
    assert len(V) == len(V.tokens) == 4 + 128 + 48
    assert V.tokens[:4] == ["PAD", "BOS", "EOS", "REST"]
    V.save(tmp_path / "vocab.json")
    assert Vocabulary.load(tmp_path / "vocab.json") == V
    small = Vocabulary(min_pitch=40, max_pitch=90, max_duration_ticks=24)
    assert Vocabulary.from_dict(small.to_dict()) == small
    with pytest.raises(ValueError):
        Vocabulary.from_dict({"format": "something else"})
    tampered = V.to_dict()
    tampered["tokens"] = tampered["tokens"][::-1]
    with pytest.raises(ValueError, match="does not match"):
        Vocabulary.from_dict(tampered)


def test_sixteenths_triplets_rests_and_long_notes_are_exact():
    notes = [Note(60, 0.5, 0.25), Note(62, 0.75, 0.25),  # sixteenths after an eighth rest
             Note(64, 1.0, 1 / 3), Note(65, 4 / 3, 1 / 3), Note(67, 5 / 3, 1 / 3),  # triplet eighths
             Note(69, 3.0, 9.0)]  # a note over two bars: needs two duration tokens
    m = Melody(notes=tuple(notes))
    ids = V.encode(m)
    assert V.describe(ids) == ["REST", "DUR_6", "PITCH_60", "DUR_3", "PITCH_62", "DUR_3",
                               "PITCH_64", "DUR_4", "PITCH_65", "DUR_4", "PITCH_67", "DUR_4",
                               "REST", "DUR_12", "PITCH_69", "DUR_48", "DUR_48", "DUR_12"]
    assert V.decode(ids).to_ticks() == m.to_ticks()
    assert V.decode(ids).notes == m.notes  # on the grid already, so exact as floats too


def test_padding_to_a_window_length_and_bos_eos():
    m = Melody(notes=(Note(60, 0.0, 1.0),))
    ids = V.encode(m, total_beats=16, bos_eos=True)
    assert ids[0] == V.bos_id and ids[-1] == V.eos_id
    assert V.describe(ids[1:-1]) == ["PITCH_60", "DUR_12", "REST", "DUR_48", "DUR_48", "DUR_48", "DUR_36"]
    assert V.decode(ids).notes == m.notes


@pytest.mark.data
def test_round_trip_of_every_jazz_solo(jazz_melodies):
    for m in jazz_melodies:
        q = m.quantize()
        assert V.decode(V.encode(m)).to_ticks() == q.to_ticks(), m.source_id


@pytest.mark.data
def test_round_trip_of_folk_tunes(kern_parsed):
    tunes = random.Random(1).sample(list(kern_parsed[0]), 800)
    for m in tunes:
        assert V.decode(V.encode(m)).to_ticks() == m.to_ticks(), m.source_id


def test_decoding_what_a_model_might_sample():
    d = V.duration_id
    # a duration with no event is a rest; an event with no duration is dropped; EOS ends it
    ids = [V.pad_id, d(6), V.pitch_id(60), V.pitch_id(61), d(3), V.rest_id, V.bos_id,
           d(3), V.pitch_id(62), d(12), V.eos_id, V.pitch_id(70), d(12)]
    notes = V.decode(ids).notes
    assert notes == (Note(61, 0.5, 0.25), Note(62, 1.0, 1.0))
    assert V.decode([]).notes == ()
    with pytest.raises(ValueError, match="outside the vocabulary"):
        V.decode([len(V)])
    with pytest.raises(ValueError, match="outside the vocabulary's range"):
        Vocabulary(min_pitch=48, max_pitch=84).encode(Melody(notes=(Note(30, 0, 1),)))
