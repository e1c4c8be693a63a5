"""Melody <-> MIDI.

Writing (:func:`melody_to_midi`, :func:`save_midi`, :func:`midi_bytes`): one pitched track whose
notes sit exactly on the beat grid of the melody. The file uses 480 ticks per quarter note, a
multiple of the melody grid (:data:`fusion.melody.TICKS_PER_BEAT` = 12), so sixteenths, eighth
triplets and sixteenth triplets are tick-exact; beats become seconds at the melody's tempo
(``seconds = beats * 60 / tempo``), and the meter is written as a time signature.

Reading (:func:`midi_to_melody`, :func:`load_midi`) is meant for files that users bring: any
General MIDI file up to :data:`MAX_MIDI_BYTES`. The melody is the highest sounding pitched note
(the "skyline", :meth:`fusion.melody.Melody.from_notes`); drum notes (MIDI channel 10) are ignored.
Onsets and durations are measured in MIDI ticks and divided by the file's resolution, so they are
in beats (quarter notes) even when the tempo changes during the piece. Every way in which a file
can be unusable raises its own subclass of :class:`MidiFileError` with a message for end users.
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import BinaryIO, Union

import pretty_midi

from fusion.melody import OVERLAP_TOLERANCE, Melody

#: Ticks per quarter note of the files we write (divisible by the 12-tick melody grid).
RESOLUTION = 480
#: Largest MIDI file accepted from users, in bytes (1 MB). A melody needs a few kB.
MAX_MIDI_BYTES = 1_000_000
#: Meter written when a melody has none (irregular): common time.
DEFAULT_METER = (4, 4)

MidiSource = Union[str, os.PathLike, bytes, bytearray, memoryview, BinaryIO]


# -------------------------------------------------------------------------------------------------
# Errors
class MidiFileError(ValueError):
    """A file that cannot be used as a MIDI melody; ``str(error)`` is a message for end users."""


class NotMidiError(MidiFileError):
    """The data is not a Standard MIDI File (it does not start with ``MThd``)."""


class CorruptMidiError(MidiFileError):
    """The data starts like a MIDI file but cannot be parsed (truncated or damaged)."""


class EmptyMidiError(MidiFileError):
    """A valid MIDI file without any (pitched or drum) note."""


class DrumOnlyError(MidiFileError):
    """A valid MIDI file whose only notes are drums (channel 10): no melody to take."""


class MidiTooLargeError(MidiFileError):
    """The file is larger than the accepted limit (:data:`MAX_MIDI_BYTES`)."""


# -------------------------------------------------------------------------------------------------
# Melody -> MIDI
def check_int(name: str, value: int, low: int, high: int) -> int:
    """``value`` if it is an integer (not a bool) in ``[low, high]``, else a ValueError."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {value!r}")
    return value


def _time_signature(meter: tuple[int, int] | None) -> tuple[int, int]:
    """The meter as a writable MIDI time signature. MIDI stores the denominator as a power of
    two; a meter that cannot be written (None, or e.g. 3/6) becomes 4/4."""
    if not meter:
        return DEFAULT_METER
    num, den = int(meter[0]), int(meter[1])
    if 1 <= num <= 255 and 1 <= den <= 2**16 and den & (den - 1) == 0:
        return num, den
    return DEFAULT_METER


def melody_to_midi(melody: Melody, tempo: float | None = None, program: int = 0,
                   velocity: int = 90) -> pretty_midi.PrettyMIDI:
    """The melody as a one-track MIDI file (not yet written).

    ``tempo`` in quarter notes per minute (default: ``melody.tempo``); ``program`` is the General
    MIDI instrument 0-127 (0 = acoustic grand piano, 65 = alto sax, 73 = flute, ...); every note
    gets ``velocity`` (1-127). Beat ``b`` is placed at ``b * 60 / tempo`` seconds, which the
    480-ticks-per-beat file stores as tick ``b * 480`` exactly for grid positions.

    Parameters
    ----------
    melody : Melody
        The melody; onsets and durations in beats (quarter notes). Notes of zero length are
        skipped.
    tempo : float, optional
        Tempo in beats (quarter notes) per minute, > 0 (default: ``melody.tempo``).
    program : int, optional
        General MIDI program number 0-127 (0 = acoustic grand piano).
    velocity : int, optional
        MIDI velocity 1-127 of every note.

    Returns
    -------
    pretty_midi.PrettyMIDI
        One non-drum instrument named after the melody's title (or genre), at
        :data:`RESOLUTION` = 480 ticks per beat, with the melody's meter as time signature (4/4
        when it has none or one MIDI cannot store). It lasts ``melody.span`` beats: a final rest
        (``melody.length``) ends with an inaudible sustain-off, so the file is N bars long.

    Raises
    ------
    ValueError
        For a tempo that is not a positive finite number, ``program`` or ``velocity`` out of
        range, a pitch outside 0-127 or a negative onset.
    """
    tempo = float(melody.tempo if tempo is None else tempo)
    if not tempo > 0 or tempo == float("inf"):
        raise ValueError(f"tempo must be a positive number of beats per minute, got {tempo!r}")
    check_int("program", program, 0, 127)
    check_int("velocity", velocity, 1, 127)

    pm = pretty_midi.PrettyMIDI(resolution=RESOLUTION, initial_tempo=tempo)
    num, den = _time_signature(melody.meter)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(num, den, 0.0))
    instrument = pretty_midi.Instrument(program=program, is_drum=False,
                                        name=melody.title or (melody.genre or "melody"))
    seconds_per_beat = 60.0 / tempo
    for note in melody.notes:
        if not 0 <= note.pitch <= 127:
            raise ValueError(f"pitch {note.pitch} is outside the MIDI range 0-127")
        if note.onset < 0:
            raise ValueError(f"note onset {note.onset} is before the start of the melody")
        if note.duration <= 0:
            continue  # nothing to hear; a zero-length MIDI note has no defined order
        instrument.notes.append(pretty_midi.Note(
            velocity=velocity, pitch=int(note.pitch),
            start=note.onset * seconds_per_beat, end=note.end * seconds_per_beat))
    if melody.span > melody.duration and instrument.notes:
        # the melody's final rest (a melody of N bars lasts N bars): a sustain-off at its end is
        # inaudible and makes the file, and the audio rendered from it, end there
        instrument.control_changes.append(pretty_midi.ControlChange(64, 0, melody.span * seconds_per_beat))
    pm.instruments.append(instrument)
    return pm


def midi_bytes(melody: Melody, **kw) -> bytes:
    """The Standard MIDI File of :func:`melody_to_midi` (same keyword arguments) as bytes.

    Parameters
    ----------
    melody : Melody
        The melody (times in beats).
    **kw
        ``tempo`` (beats per minute), ``program`` (General MIDI program 0-127) and ``velocity``
        (1-127), as in :func:`melody_to_midi`.

    Returns
    -------
    bytes
        The file's contents (480 ticks per beat).

    Raises
    ------
    ValueError
        As :func:`melody_to_midi`.
    """
    buffer = io.BytesIO()
    melody_to_midi(melody, **kw).write(buffer)
    return buffer.getvalue()


def save_midi(melody: Melody, path: str | os.PathLike, **kw) -> Path:
    """Write the melody to a ``.mid`` file (keyword arguments of :func:`melody_to_midi`).

    Parameters
    ----------
    melody : Melody
        The melody (times in beats).
    path : str or os.PathLike
        Where to write; an existing file is overwritten.
    **kw
        ``tempo`` (beats per minute), ``program`` (General MIDI program 0-127) and ``velocity``
        (1-127), as in :func:`melody_to_midi`.

    Returns
    -------
    Path
        ``path`` as a :class:`pathlib.Path`.

    Raises
    ------
    ValueError
        As :func:`melody_to_midi`.
    """
    path = Path(path)
    path.write_bytes(midi_bytes(melody, **kw))
    return path


# -------------------------------------------------------------------------------------------------
# MIDI -> Melody
def _read_limited(source: MidiSource, max_bytes: int) -> tuple[bytes, str]:
    """The raw bytes of ``source`` (never more than ``max_bytes + 1`` read) and its name."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if len(data) > max_bytes:
            raise _too_large(len(data), max_bytes)
        return data, ""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
            size = os.fstat(handle.fileno()).st_size
        if len(data) > max_bytes:
            raise _too_large(size, max_bytes)
        return data, path.name
    if hasattr(source, "read"):
        data = source.read(max_bytes + 1)
        name = os.path.basename(str(getattr(source, "name", "") or ""))
        if isinstance(data, str):
            raise NotMidiError("This file is not a MIDI file (it was opened as text; "
                               "MIDI files are binary and start with 'MThd').")
        data = bytes(data or b"")
        if len(data) > max_bytes:
            raise _too_large(None, max_bytes)
        return data, name
    raise TypeError(f"expected a path, bytes or a binary file object, got {type(source).__name__}")


def _too_large(size: int | None, max_bytes: int) -> MidiTooLargeError:
    what = f"{size:,} bytes" if size is not None else f"more than {max_bytes:,} bytes"
    return MidiTooLargeError(f"This file is too large ({what}); MIDI files up to "
                             f"{max_bytes:,} bytes are accepted (a melody needs only a few kB).")


_KNOWN_FORMATS = (  # (magic at offset 0, extra check, what it is)
    (b"RIFF", lambda d: d[8:12] == b"WAVE", "WAV audio"),
    (b"ID3", None, "MP3 audio"),
    (b"\xff\xfb", None, "MP3 audio"),
    (b"OggS", None, "Ogg audio"),
    (b"fLaC", None, "FLAC audio"),
    (b"%PDF", None, "a PDF document"),
    (b"PK\x03\x04", None, "a ZIP archive (perhaps a MusicXML .mxl file)"),
    (b"X:", None, "ABC notation text"),
    (b"**kern", None, "Humdrum kern text"),
)


def _describe(data: bytes) -> str:
    for magic, check, what in _KNOWN_FORMATS:
        if data.startswith(magic) and (check is None or check(data)):
            return f"; it looks like {what}"
    head = data[:512]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return ""
    return "; it looks like a text file"


def _check_header(data: bytes) -> bytes:
    """The Standard MIDI File inside ``data``; RIFF-wrapped MIDI (``.rmi``) is unwrapped."""
    if not data:
        raise NotMidiError("This file is empty, so it is not a MIDI file.")
    if data[:4] == b"RIFF" and data[8:12] == b"RMID":
        start = data.find(b"MThd", 12)
        if start >= 0:
            data = data[start:]
    if data[:4] != b"MThd":
        raise NotMidiError(
            f"This file is not a MIDI file (it does not start with 'MThd'){_describe(data)}.")
    return data


def _parse(data: bytes) -> pretty_midi.PrettyMIDI:
    try:
        return pretty_midi.PrettyMIDI(io.BytesIO(data))
    except Exception as exc:  # mido/pretty_midi raise EOFError, OSError, ValueError, KeyError ...
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise CorruptMidiError(
            f"This MIDI file is damaged or truncated and cannot be read ({detail}).") from exc


def load_midi(source: MidiSource, max_bytes: int = MAX_MIDI_BYTES) -> pretty_midi.PrettyMIDI:
    """Read and parse a user's MIDI file (a path, bytes or a binary file object).

    Raises :class:`MidiTooLargeError`, :class:`NotMidiError` or :class:`CorruptMidiError`; the
    notes are not checked (see :func:`midi_to_melody`).

    Parameters
    ----------
    source : str, os.PathLike, bytes, bytearray, memoryview or binary file object
        The MIDI data; a RIFF-wrapped MIDI file (``.rmi``) is unwrapped.
    max_bytes : int, optional
        Largest accepted size in bytes (default :data:`MAX_MIDI_BYTES`, 1 MB); at most
        ``max_bytes + 1`` bytes are read.

    Returns
    -------
    pretty_midi.PrettyMIDI
        The parsed file (times in seconds, as pretty_midi keeps them).

    Raises
    ------
    MidiTooLargeError
        The data is larger than ``max_bytes``.
    NotMidiError
        The data is empty, opened as text, or does not start with ``MThd``.
    CorruptMidiError
        The data cannot be parsed.
    TypeError
        ``source`` is none of the accepted types.
    """
    return _load(source, max_bytes)[0]


def _load(source: MidiSource, max_bytes: int) -> tuple[pretty_midi.PrettyMIDI, str]:
    """The parsed file and its name (empty for bare bytes)."""
    data, name = _read_limited(source, max_bytes)
    return _parse(_check_header(data)), name


def _tidy_bpm(bpm: float) -> float:
    """The simplest decimal tempo that a MIDI file stores the same way.

    MIDI stores microseconds per quarter note as an integer, so 97 bpm comes back as
    96.9999 or 97.0001; the shortest rounding within one microsecond per beat is returned.
    """
    if not bpm > 0:
        return 120.0
    micros = 60_000_000.0 / bpm
    for digits in range(7):
        candidate = round(bpm, digits)
        if candidate > 0 and abs(60_000_000.0 / candidate - micros) <= 1.0:
            return float(candidate)
    return float(bpm)


def _first_tempo(pm: pretty_midi.PrettyMIDI) -> float:
    _, tempi = pm.get_tempo_changes()
    return _tidy_bpm(float(tempi[0])) if len(tempi) else 120.0


def _first_meter(pm: pretty_midi.PrettyMIDI) -> tuple[int, int]:
    if not pm.time_signature_changes:
        return DEFAULT_METER
    first = min(pm.time_signature_changes, key=lambda ts: ts.time)
    return int(first.numerator), int(first.denominator)


def midi_to_melody(source: MidiSource, genre: str | None = None, source_id: str | None = None,
                   title: str | None = None, max_bytes: int = MAX_MIDI_BYTES) -> Melody:
    """The melody of a user's MIDI file: the highest sounding pitched note at every moment.

    ``source`` is a path, bytes or a binary file object. Drum notes are ignored; when several
    pitched notes sound together (chords, several instruments) the highest one is kept
    (:meth:`Melody.from_notes`). Onsets and durations are in beats (MIDI ticks divided by the
    file's ticks per quarter note) and are not quantized (call :meth:`Melody.quantize`). The
    tempo is the file's first tempo and the meter its first time signature (4/4 if none). The key
    is left unknown. ``extra`` records ``midi_notes`` (pitched notes in the file) and
    ``dropped_notes`` (those not in the melody).

    ``source_id`` defaults to the file name (``"midi"`` for bare bytes), ``title`` to the file
    name without its extension (empty for bare bytes).
    Raises a :class:`MidiFileError` subclass for every unusable file.

    Parameters
    ----------
    source : str, os.PathLike, bytes, bytearray, memoryview or binary file object
        The MIDI data (see :func:`load_midi`).
    genre : str, optional
        The melody's genre (default None: unknown).
    source_id : str, optional
        Where the melody came from (default: the file name, or ``"midi"`` for bare bytes).
    title : str, optional
        The melody's title (default: the file name without its extension; "" for bare bytes).
    max_bytes : int, optional
        Largest accepted size in bytes (default :data:`MAX_MIDI_BYTES`, 1 MB).

    Returns
    -------
    Melody
        One voice with onsets and durations in beats (quarter notes), the first tempo in beats
        per minute, the first meter, no key; ``extra`` holds ``midi_notes`` and
        ``dropped_notes``.

    Raises
    ------
    MidiTooLargeError, NotMidiError, CorruptMidiError
        As :func:`load_midi` (``CorruptMidiError`` also when the notes cannot be timed).
    DrumOnlyError
        The file's only notes are drums (channel 10).
    EmptyMidiError
        The file has no notes, or only pitched notes of zero length.
    TypeError
        ``source`` is none of the accepted types.
    """
    pm, name = _load(source, max_bytes)
    try:
        pitched = [n for ins in pm.instruments if not ins.is_drum for n in ins.notes]
        drums = sum(len(ins.notes) for ins in pm.instruments if ins.is_drum)
        if not pitched:
            if drums:
                raise DrumOnlyError("This MIDI file contains only drum notes (MIDI channel 10); "
                                    "a melody needs pitched notes.")
            raise EmptyMidiError("This MIDI file contains no notes.")
        ticks_per_beat = float(pm.resolution)
        triples = []
        for note in pitched:
            on = pm.time_to_tick(note.start)
            off = pm.time_to_tick(note.end)
            triples.append((note.pitch, on / ticks_per_beat, (off - on) / ticks_per_beat))
        stem = Path(name).stem if name else ""
        melody = Melody.from_notes(  # times are tick ratios: a triplet's end and the next onset may differ by 1e-16
            triples, tolerance=OVERLAP_TOLERANCE, genre=genre, source_id=source_id if source_id is not None else (name or "midi"),
            title=title if title is not None else stem, meter=_first_meter(pm),
            tempo=_first_tempo(pm), extra={"midi_notes": len(triples)})
    except MidiFileError:
        raise
    except Exception as exc:  # anything odd inside pretty_midi's tick maps
        raise CorruptMidiError(f"This MIDI file could not be read ({type(exc).__name__}: {exc}).") from exc
    if not melody.notes:
        raise EmptyMidiError("This MIDI file contains no notes that can be heard "
                             "(every pitched note has zero length).")
    melody.extra["dropped_notes"] = len(triples) - len(melody.notes)
    return melody
