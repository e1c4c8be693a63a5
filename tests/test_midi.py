"""fusion.render.midi: Melody <-> MIDI on real files (written to tmp_path and read back)."""
from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import io  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import mido  # noqa: E402
import numpy as np  # noqa: E402
import pretty_midi  # noqa: E402
import pytest  # noqa: E402
from scipy.io import wavfile  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent

from fusion.render import midi  # noqa: E402
from fusion.melody import OVERLAP_TOLERANCE, TICKS_PER_BEAT, Melody, Note  # noqa: E402


# -------------------------------------------------------------------------------------------------
# helpers
def grid_melody(tempo: float, meter, **meta) -> Melody:
    """A melody on the 12-tick grid: a rest first, sixteenths, eighth triplets, sixteenth
    triplets, a dotted eighth, rests, a long tied note over the bar line."""
    ticks = [  # (pitch, onset tick, duration ticks); 12 ticks = one quarter note
        (62, 3, 3), (64, 6, 3), (65, 9, 3),              # pickup sixteenths after a rest
        (67, 12, 4), (65, 16, 4), (64, 20, 4),           # eighth triplets
        (62, 24, 2), (64, 26, 2), (62, 28, 2),           # sixteenth triplets
        (60, 30, 6),                                     # an eighth
        (72, 42, 9), (71, 51, 3),                        # rest, dotted eighth + sixteenth
        (69, 54, 60),                                    # a long note (five quarters)
        (67, 126, 1), (65, 127, 11),                     # a rest, then one tick (a 48th)
    ]
    notes = tuple(Note(p, on / TICKS_PER_BEAT, d / TICKS_PER_BEAT) for p, on, d in ticks)
    return Melody(notes=notes, tempo=tempo, meter=meter, **meta)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def pm_bytes(pm: pretty_midi.PrettyMIDI) -> bytes:
    buffer = io.BytesIO()
    pm.write(buffer)
    return buffer.getvalue()


def mido_bytes(mid: mido.MidiFile) -> bytes:
    buffer = io.BytesIO()
    mid.save(file=buffer)
    return buffer.getvalue()


class ReadRecorder(io.BytesIO):
    """A real in-memory binary file that remembers how many bytes were handed out."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.handed_out = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.handed_out += len(chunk)
        return chunk


def as_source(kind: str, data: bytes, tmp_path: Path):
    """The same file content as a path, bytes or an open binary file."""
    if kind == "path":
        return write(tmp_path, "input.mid", data)
    if kind == "str-path":
        return str(write(tmp_path, "input.mid", data))
    if kind == "bytes":
        return data
    if kind == "bytesio":
        return io.BytesIO(data)
    if kind == "open-file":
        return open(write(tmp_path, "input.mid", data), "rb")  # closed by the test's finaliser
    raise AssertionError(kind)


SOURCE_KINDS = ("path", "str-path", "bytes", "bytesio", "open-file")


@pytest.fixture
def source(tmp_path, request):
    opened = []

    def make(kind: str, data: bytes):
        src = as_source(kind, data, tmp_path)
        if hasattr(src, "close"):
            opened.append(src)
        return src

    yield make
    for handle in opened:
        handle.close()


# -------------------------------------------------------------------------------------------------
# round trip
def test_a_lower_note_after_a_triplet_is_kept_not_read_as_an_overlap(tmp_path):
    """A third of a beat from 7/3 ends at 2.666...67 in floating point and the next note starts
    at 8/3 = 2.666...65: the skyline must not read that as a lower note starting under a higher
    one (a Blend melody of the demo lost four notes so between its MIDI file and its score)."""
    triplets = [(63, 2.0, 1 / 3), (60, 7 / 3, 1 / 3), (59, 8 / 3, 0.5), (59, 3.5, 0.5)]
    kept = Melody.from_notes(triplets, tolerance=OVERLAP_TOLERANCE)
    assert kept.pitches == [63, 60, 59, 59]
    assert all(a.end <= b.onset for a, b in zip(kept.notes, kept.notes[1:]))  # still one voice
    assert Melody.from_notes(triplets).pitches == [63, 60, 59]  # exact, as the corpora are parsed
    overlap = [(72, 0.0, 1.0), (60, 0.5, 1.0)]
    assert Melody.from_notes(overlap, tolerance=OVERLAP_TOLERANCE).pitches == [72]  # a real overlap still drops
    melody = Melody(notes=tuple(Note(p, o, d) for p, o, d in triplets))
    back = midi.midi_to_melody(midi.save_midi(melody, tmp_path / "triplets.mid"))
    assert back.to_ticks() == melody.to_ticks() and back.extra["dropped_notes"] == 0


@pytest.mark.parametrize("tempo", [60, 97, 240, 133.33])
@pytest.mark.parametrize("meter", [(4, 4), (3, 4), (6, 8)])
def test_round_trip_is_exact_on_the_grid(tmp_path, tempo, meter):
    melody = grid_melody(tempo, meter, title="round trip")
    path = midi.save_midi(melody, tmp_path / "melody.mid")
    assert path.read_bytes()[:4] == b"MThd"

    back = midi.midi_to_melody(path)

    assert back.to_ticks() == melody.to_ticks()
    assert back.tempo == tempo
    assert back.meter == meter
    assert back.pitches == melody.pitches
    for got, want in zip(back.notes, melody.notes):
        assert got.onset == pytest.approx(want.onset, abs=1e-9)
        assert got.duration == pytest.approx(want.duration, abs=1e-9)
    assert back.notes[0].onset == pytest.approx(0.25)  # the leading rest survives
    assert back.source_id == "melody.mid" and back.title == "melody"
    assert back.extra["dropped_notes"] == 0


def test_written_file_has_resolution_tempo_meter_program_velocity(tmp_path):
    melody = grid_melody(97, (6, 8), title="x")
    path = midi.save_midi(melody, tmp_path / "m.mid", program=65, velocity=100, tempo=150)
    mid = mido.MidiFile(str(path))
    assert mid.ticks_per_beat == 480
    metas = [msg for track in mid.tracks for msg in track if msg.is_meta]
    sigs = [(m.numerator, m.denominator) for m in metas if m.type == "time_signature"]
    assert sigs == [(6, 8)]
    tempos = [m.tempo for m in metas if m.type == "set_tempo"]
    assert len(tempos) == 1 and abs(mido.tempo2bpm(tempos[0]) - 150) < 1e-3
    pm = pretty_midi.PrettyMIDI(str(path))
    (instrument,) = pm.instruments
    assert instrument.program == 65 and not instrument.is_drum
    assert {n.velocity for n in instrument.notes} == {100}
    # seconds = beats * 60 / tempo: the long note (beat 4.5) starts at 1.8 s at 150 bpm
    assert pm.instruments[0].notes[12].start == pytest.approx(4.5 * 60 / 150, abs=1e-6)
    # the file tempo overrides the melody's, and reading it back gives 150
    assert midi.midi_to_melody(path).tempo == 150


def test_meter_none_is_written_as_common_time(tmp_path):
    melody = grid_melody(120, None)
    back = midi.midi_to_melody(midi.midi_bytes(melody))
    assert back.meter == (4, 4)
    assert back.to_ticks() == melody.to_ticks()


@pytest.mark.parametrize("kw", [{"program": 128}, {"program": -1}, {"program": 1.5},
                                {"velocity": 0}, {"velocity": 128}, {"tempo": 0}, {"tempo": -60}])
def test_melody_to_midi_rejects_bad_arguments(kw):
    with pytest.raises(ValueError):
        midi.melody_to_midi(grid_melody(120, (4, 4)), **kw)


def test_pitch_outside_midi_range_is_rejected():
    melody = Melody(notes=(Note(128, 0.0, 1.0),))
    with pytest.raises(ValueError, match="0-127"):
        midi.melody_to_midi(melody)


def test_tempo_changes_do_not_distort_beats():
    """Beats come from ticks: a tempo change halfway must not move later notes off the beat."""
    mid = mido.MidiFile(ticks_per_beat=96)
    meta = mido.MidiTrack([
        mido.MetaMessage("time_signature", numerator=3, denominator=4, time=0),
        mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(90), time=0),
        mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(150), time=192),  # at beat 2
        mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(45), time=96),    # at beat 3
    ])
    notes = mido.MidiTrack([mido.Message("program_change", program=73, time=0)])
    for beat in range(6):  # an eighth note on every beat
        notes.append(mido.Message("note_on", note=70 + beat, velocity=80, time=0 if beat == 0 else 48))
        notes.append(mido.Message("note_off", note=70 + beat, velocity=0, time=48))
    mid.tracks.extend([meta, notes])

    melody = midi.midi_to_melody(mido_bytes(mid))

    assert [n.onset for n in melody.notes] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert [n.duration for n in melody.notes] == [0.5] * 6
    assert melody.tempo == 90
    assert melody.meter == (3, 4)


def test_file_without_tempo_or_time_signature_defaults_to_120_and_common_time():
    mid = mido.MidiFile(ticks_per_beat=192)
    mid.tracks.append(mido.MidiTrack([
        mido.Message("note_on", note=64, velocity=80, time=96),
        mido.Message("note_off", note=64, velocity=0, time=192),
    ]))
    melody = midi.midi_to_melody(mido_bytes(mid), genre="folk", source_id="tune-7", title="Tune")
    assert melody.notes == (Note(64, 0.5, 1.0),)
    assert melody.tempo == 120 and melody.meter == (4, 4)
    assert (melody.genre, melody.source_id, melody.title) == ("folk", "tune-7", "Tune")


# -------------------------------------------------------------------------------------------------
# polyphony and drums
def _polyphonic_pm() -> pretty_midi.PrettyMIDI:
    pm = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=100)
    spb = 60 / 100

    def instrument(program, notes, is_drum=False):
        ins = pretty_midi.Instrument(program=program, is_drum=is_drum)
        for pitch, start, end in notes:
            ins.notes.append(pretty_midi.Note(90, pitch, start * spb, end * spb))
        pm.instruments.append(ins)

    instrument(0, [(60, 0, 1), (64, 0, 1), (67, 0, 1)])          # a C major chord
    instrument(73, [(76, 1, 2), (74, 2, 3), (72, 3.5, 4)])       # flute line above
    instrument(48, [(57, 1, 2.5)])                               # lower, same onset as E5
    instrument(65, [(77, 2.5, 3)])                               # higher: cuts the D5
    instrument(66, [(71, 2.75, 3.5)])                            # lower, starts under F5
    # drums higher than everything: they must not become the melody
    instrument(0, [(81, b / 2, b / 2 + 0.25) for b in range(9)] + [(42, 0, 4)], is_drum=True)
    return pm


def test_polyphony_keeps_the_highest_sounding_note_and_ignores_drums(tmp_path):
    path = write(tmp_path, "band.mid", pm_bytes(_polyphonic_pm()))
    melody = midi.midi_to_melody(path)
    assert melody.to_ticks() == [(67, 0, 12), (76, 12, 12), (74, 24, 6), (77, 30, 6), (72, 42, 6)]
    assert melody.extra == {"midi_notes": 9, "dropped_notes": 4}


def test_overlapping_notes_in_one_track():
    pm = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=120)
    ins = pretty_midi.Instrument(program=0)
    for pitch, start, end in [(60, 0, 1.0), (67, 0.25, 0.5), (62, 0.4, 0.75), (64, 0.75, 1.0)]:
        ins.notes.append(pretty_midi.Note(80, pitch, start, end))
    pm.instruments.append(ins)
    melody = midi.midi_to_melody(pm_bytes(pm))
    # seconds at 120 bpm -> beats x2: C (0-0.5) cut by G (0.5-1), D under G dropped, E (1.5-2)
    assert [(n.pitch, n.onset, n.duration) for n in melody.notes] == [
        (60, 0.0, 0.5), (67, 0.5, 0.5), (64, 1.5, 0.5)]


# -------------------------------------------------------------------------------------------------
# bad files
def _valid_bytes() -> bytes:
    return midi.midi_bytes(grid_melody(97, (3, 4)))


def _wav_bytes(tmp_path: Path) -> bytes:
    t = np.arange(4410) / 44100
    path = tmp_path / "tone.wav"
    wavfile.write(str(path), 44100, (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16))
    return path.read_bytes()


def _no_notes_bytes() -> bytes:
    pm = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=120)
    pm.instruments.append(pretty_midi.Instrument(program=0))
    return pm_bytes(pm)


def _drums_only_bytes() -> bytes:
    pm = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=120)
    drums = pretty_midi.Instrument(program=0, is_drum=True)
    drums.notes += [pretty_midi.Note(100, 36 + i % 3, i * 0.25, i * 0.25 + 0.1) for i in range(16)]
    pm.instruments.append(drums)
    return pm_bytes(pm)


def _bad_files(tmp_path: Path) -> dict:
    valid = _valid_bytes()
    rng = np.random.default_rng(7)
    noise = rng.integers(0, 256, 3000, dtype=np.uint8).tobytes()
    assert noise[:4] != b"MThd"
    return {
        "random bytes": (noise, midi.NotMidiError),
        "text": ("X:1\nT:Not a MIDI file\nK:C\nCDEF GABc|\n".encode(), midi.NotMidiError),
        "wav": (_wav_bytes(tmp_path), midi.NotMidiError),
        "empty": (b"", midi.NotMidiError),
        "truncated": (valid[: len(valid) // 2], midi.CorruptMidiError),
        "header only": (valid[:14], midi.CorruptMidiError),
        "no notes": (_no_notes_bytes(), midi.EmptyMidiError),
        "drums only": (_drums_only_bytes(), midi.DrumOnlyError),
        "too large": (b"MThd" + bytes(midi.MAX_MIDI_BYTES), midi.MidiTooLargeError),
    }


BAD_NAMES = ("random bytes", "text", "wav", "empty", "truncated", "header only", "no notes",
             "drums only", "too large")


@pytest.mark.parametrize("kind", SOURCE_KINDS)
@pytest.mark.parametrize("name", BAD_NAMES)
def test_each_bad_file_gets_its_error(tmp_path, source, name, kind):
    data, error = _bad_files(tmp_path)[name]
    with pytest.raises(error) as info:
        midi.midi_to_melody(source(kind, data))
    exc = info.value
    assert isinstance(exc, midi.MidiFileError) and isinstance(exc, ValueError)
    assert type(exc) is error  # not a more general (or more specific) class
    message = str(exc)
    assert message[0].isupper() and message.endswith(".")
    assert "Traceback" not in message


def test_error_messages_speak_to_users(tmp_path):
    bad = _bad_files(tmp_path)
    messages = {}
    for name in BAD_NAMES:
        with pytest.raises(midi.MidiFileError) as info:
            midi.midi_to_melody(bad[name][0])
        messages[name] = str(info.value)
    assert messages["text"].startswith("This file is not a MIDI file (it does not start with 'MThd')")
    assert "WAV" in messages["wav"]
    assert "damaged or truncated" in messages["truncated"]
    assert "no notes" in messages["no notes"]
    assert "only drum notes" in messages["drums only"]
    assert "1,000,000 bytes" in messages["too large"] and "too large" in messages["too large"]


def test_every_truncation_of_a_real_file_is_a_corrupt_midi_error():
    valid = _valid_bytes()
    for cut in range(4, len(valid)):
        with pytest.raises(midi.CorruptMidiError):
            midi.midi_to_melody(valid[:cut])


def test_damaged_files_never_leak_parser_exceptions():
    """Random byte changes in a real file: a melody, or a MidiFileError, never anything else."""
    valid = _valid_bytes()
    rng = np.random.default_rng(2017)
    outcomes = set()
    for _ in range(300):
        data = bytearray(valid)
        for _ in range(int(rng.integers(1, 4))):
            data[int(rng.integers(14, len(data)))] = int(rng.integers(0, 256))
        try:
            midi.midi_to_melody(bytes(data))
            outcomes.add("melody")
        except midi.MidiFileError as exc:
            outcomes.add(type(exc).__name__)
    assert "CorruptMidiError" in outcomes  # the fuzzing does reach the parser's errors


def test_size_limit_reads_at_most_limit_plus_one_byte():
    data = b"MThd" + bytes(3 * midi.MAX_MIDI_BYTES)
    handle = ReadRecorder(data)
    with pytest.raises(midi.MidiTooLargeError):
        midi.midi_to_melody(handle)
    assert handle.handed_out <= midi.MAX_MIDI_BYTES + 1


def test_size_limit_is_inclusive(tmp_path):
    valid = _valid_bytes()
    assert midi.midi_to_melody(valid, max_bytes=len(valid)).to_ticks()
    path = write(tmp_path, "small.mid", valid)
    with pytest.raises(midi.MidiTooLargeError, match=f"{len(valid):,} bytes"):
        midi.midi_to_melody(path, max_bytes=len(valid) - 1)
    # a real file padded to exactly 1 MB is still accepted (mido ignores trailing bytes)
    padded = valid + bytes(midi.MAX_MIDI_BYTES - len(valid))
    assert len(padded) == midi.MAX_MIDI_BYTES
    assert midi.midi_to_melody(padded).to_ticks() == grid_melody(97, (3, 4)).to_ticks()


@pytest.mark.parametrize("kind", SOURCE_KINDS)
def test_valid_file_from_every_kind_of_source(source, kind):
    melody = midi.midi_to_melody(source(kind, _valid_bytes()), genre="jazz")
    assert melody.to_ticks() == grid_melody(97, (3, 4)).to_ticks()
    assert melody.genre == "jazz"


def test_rmid_wrapped_midi_is_unwrapped():
    valid = _valid_bytes()
    size = 4 + 8 + len(valid)
    rmid = (b"RIFF" + size.to_bytes(4, "little") + b"RMID" + b"data"
            + len(valid).to_bytes(4, "little") + valid)
    assert midi.midi_to_melody(rmid).to_ticks() == grid_melody(97, (3, 4)).to_ticks()


def test_text_mode_file_object_is_not_midi(tmp_path):
    path = write(tmp_path, "notes.txt", b"C D E F G\n")
    with open(path, "r", encoding="utf-8") as handle:
        with pytest.raises(midi.NotMidiError):
            midi.midi_to_melody(handle)


def test_load_midi_returns_the_parsed_file(tmp_path):
    pm = midi.load_midi(write(tmp_path, "band.mid", pm_bytes(_polyphonic_pm())))
    assert isinstance(pm, pretty_midi.PrettyMIDI)
    assert sum(ins.is_drum for ins in pm.instruments) == 1
    with pytest.raises(midi.CorruptMidiError):
        midi.load_midi(_valid_bytes()[:40])


def test_unsupported_source_type_is_a_type_error():
    with pytest.raises(TypeError):
        midi.midi_to_melody(12345)
