"""MIDI -> audio with FluidSynth (through pyfluidsynth and pretty_midi).

A :class:`Renderer` owns one FluidSynth synthesizer with one SoundFont loaded (by default
``TimGM6mb.sf2``, the small General MIDI SoundFont that ships inside the pretty_midi package) and
turns a :class:`~fusion.melody.Melody` (or a ``pretty_midi.PrettyMIDI``) into a mono float32
waveform. Creating a synthesizer and loading a SoundFont costs about as much as rendering 30 s
of melody with TimGM6mb (far more with a large SoundFont), so the app keeps one renderer
(:func:`default_renderer`) and renders every request with it, one at a time (a lock guards the
synthesizer because Gradio calls handlers from several threads).

Reproducibility: a synthesizer keeps state from one render to the next (release tails of long
notes, reverb and chorus, traces of earlier notes in reused voice slots, the position of
FluidSynth's 64-sample block and of its dither table). Before each render the renderer silences
and resets the synthesizer, lets what is left decay, and brings it back to the same state, so the
same melody gives the same audio whatever was rendered before: equal to a couple of least
significant bits, at worst with one sub-millisecond click that differs. FluidSynth's reverb and
chorus are modulated by free-running oscillators that cannot be reset, so they are off by default
(``effects=False``: a dry, reproducible sound); ``effects=True`` turns them on for a roomier
sound whose samples differ from one render to the next (it sounds the same).

The audio of a melody starts at beat 0 (a leading rest is silence) and lasts the melody's length
in seconds at the chosen tempo, plus one second for the last note's release.

For a web page the audio is sent as MP3 (:func:`encode_mp3`: LAME through ``lameenc``, 96 kbit/s
mono, about a seventh of the 16-bit WAV's size, encoded in a few tens of milliseconds); WAV
(:meth:`Renderer.write_wav`) is for downloads.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Union

import numpy as np

from fusion.melody import Melody

DEFAULT_SAMPLE_RATE = 44100
#: Peak level of the returned audio (a little headroom below full scale).
PEAK = 0.9
#: Longest audio one render may produce, in seconds (a 1 MB MIDI file can last hours, and the
#: samples are held in memory: 10 minutes at 44.1 kHz are about 200 MB while rendering).
MAX_RENDER_SECONDS = 600.0
#: The General MIDI SoundFont bundled with pretty_midi (about 6 MB).
BUNDLED_SF2 = "TimGM6mb.sf2"
INSTALL_HINT = "apt-get install -y libfluidsynth3"

_BLOCK = 64  # FluidSynth renders in blocks of 64 frames; events start on block boundaries
_DITHER = 48000  # length of FluidSynth's 16-bit dither table (a multiple of _BLOCK)
_MIDI_CHANNELS = 16
_SILENT = 1  # |sample| <= 1 LSB counts as silence (dither)
_MAX_DRAIN_S = 10.0  # the longest tail we wait for before forcing a reset

Renderable = Union[Melody, "pretty_midi.PrettyMIDI"]  # noqa: F821


class AudioError(RuntimeError):
    """Synthesis is unavailable: FluidSynth missing, or a SoundFont that cannot be loaded."""


def bundled_soundfont() -> Path:
    """Path of the General MIDI SoundFont that ships with pretty_midi.

    Returns
    -------
    Path
        The absolute path of :data:`BUNDLED_SF2` (``TimGM6mb.sf2``, about 6 MB) inside the
        installed pretty_midi package; it is not checked that the file exists.
    """
    import pretty_midi

    return Path(pretty_midi.__file__).resolve().parent / BUNDLED_SF2


def _import_fluidsynth():
    try:
        import fluidsynth  # pyfluidsynth: loads libfluidsynth with ctypes at import
    except (ImportError, OSError) as exc:
        raise AudioError(
            "Audio needs the FluidSynth library, which was not found "
            f"({exc}). Install it with: {INSTALL_HINT} "
            "(and the Python binding with: pip install pyfluidsynth).") from exc
    return fluidsynth


def _check_soundfont(path: Path) -> None:
    """A clear error before FluidSynth sees a missing file or one that is not a SoundFont 2."""
    if not path.is_file():
        raise AudioError(f"SoundFont not found: {path}")
    try:
        with open(path, "rb") as handle:
            head = handle.read(12)
    except OSError as exc:
        raise AudioError(f"SoundFont cannot be read: {path} ({exc})") from exc
    if head[:4] != b"RIFF" or head[8:12] != b"sfbk":
        raise AudioError(f"Not a SoundFont 2 (.sf2) file: {path}")


def to_int16(audio: np.ndarray) -> np.ndarray:
    """Float audio in [-1, 1] as 16-bit PCM samples.

    Parameters
    ----------
    audio : numpy.ndarray
        Samples in [-1, 1] (full scale); values outside are clipped.

    Returns
    -------
    numpy.ndarray
        int16 samples of the same shape, ``round(x * 32767)``.
    """
    audio = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
    return np.round(audio * 32767.0).astype(np.int16)


class Renderer:
    """One FluidSynth synthesizer with one SoundFont, reused for every render.

    ``sf2_path``: a SoundFont 2 file (default: the bundled ``TimGM6mb.sf2``); ``sample_rate`` in
    Hz; ``effects``: FluidSynth's reverb and chorus (see the module docstring); ``max_seconds``:
    longer music is refused with a ValueError before any sample is made. Raises
    :class:`AudioError` when FluidSynth is missing or the SoundFont cannot be loaded. Use as a
    context manager or call :meth:`close`.

    Parameters
    ----------
    sf2_path : str or os.PathLike, optional
        A SoundFont 2 (``.sf2``) file; default :func:`bundled_soundfont`.
    sample_rate : int, optional
        Samples per second (Hz), an integer from 8000 to 192000; default 44100.
    effects : bool, optional
        Turn on FluidSynth's reverb and chorus (a roomier sound whose samples differ from one
        render to the next); default False (dry and reproducible).
    max_seconds : float, optional
        Longest music one render accepts, in seconds; default :data:`MAX_RENDER_SECONDS` = 600.

    Raises
    ------
    ValueError
        For a ``sample_rate`` that is not an integer from 8000 to 192000.
    AudioError
        FluidSynth is missing, or the SoundFont is missing, unreadable, not a SoundFont 2 or
        cannot be loaded.
    """

    def __init__(self, sf2_path: str | os.PathLike | None = None,
                 sample_rate: int = DEFAULT_SAMPLE_RATE, effects: bool = False,
                 max_seconds: float = MAX_RENDER_SECONDS) -> None:
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) \
                or not 8000 <= sample_rate <= 192000:
            raise ValueError(f"sample_rate must be an integer from 8000 to 192000 Hz, got {sample_rate!r}")
        fluidsynth = _import_fluidsynth()
        self.sample_rate = int(sample_rate)
        self.sf2_path = Path(sf2_path).expanduser() if sf2_path is not None else bundled_soundfont()
        self.effects = bool(effects)
        self.max_seconds = float(max_seconds)
        _check_soundfont(self.sf2_path)

        counting_base = fluidsynth.Synth

        class _CountingSynth(counting_base):  # pretty_midi accepts any fluidsynth.Synth
            """Counts the frames written, to restore FluidSynth's block and dither position."""

            frames = 0

            def get_samples(self, len=1024):  # noqa: A002 - pyfluidsynth's signature
                self.frames += int(len)
                return super().get_samples(len)

        self._lock = threading.Lock()
        self._closed = False
        fx = int(self.effects)
        self.synth = _CountingSynth(samplerate=float(self.sample_rate),
                                    **{"synth.reverb.active": fx, "synth.chorus.active": fx})
        self.sfid = self.synth.sfload(str(self.sf2_path))
        if self.sfid < 0:
            self.synth.delete()
            self._closed = True
            raise AudioError(f"FluidSynth could not load the SoundFont {self.sf2_path}")

    # ------------------------------------------------------------------------------------------
    def __enter__(self) -> "Renderer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called (the renderer can no longer render)."""
        return self._closed

    def close(self) -> None:
        """Free the synthesizer and its SoundFont (safe to call twice)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self.synth.delete()

    # ------------------------------------------------------------------------------------------
    def _silence(self) -> None:
        """Stop every voice, reset the MIDI state, and render until nothing is left sounding."""
        synth = self.synth
        for channel in range(_MIDI_CHANNELS):
            synth.all_sounds_off(channel)
        synth.system_reset()
        chunk = max(_BLOCK, self.sample_rate // 10)
        for _ in range(int(_MAX_DRAIN_S * self.sample_rate / chunk)):
            block = synth.get_samples(chunk).astype(np.int32)  # abs(-32768) overflows int16
            if np.abs(block).max(initial=0) <= _SILENT:
                break

    def _reset(self) -> None:
        """Bring the synthesizer to the same state before every render.

        FluidSynth reuses voice slots that keep a trace of their previous note (a different
        click at the next note's start), so all slots are first given the same short history (every key of program 0 at
        velocity 1 for one block); then the frame count is padded to a multiple of the dither
        table, which is also a multiple of the 64-frame block.
        """
        synth = self.synth
        self._silence()
        if synth.program_select(0, self.sfid, 0, 0) == 0:
            for key in range(128):
                synth.noteon(0, key, 1)
            synth.get_samples(_BLOCK)
            self._silence()
        pad = (-synth.frames) % _DITHER
        if pad:
            synth.get_samples(pad)

    def _to_midi(self, item: Renderable, program: int | None, tempo: float | None):
        import copy

        import pretty_midi

        from fusion.render.midi import check_int, melody_to_midi

        if isinstance(item, Melody):
            return melody_to_midi(item, tempo=tempo, program=0 if program is None else program)
        if isinstance(item, pretty_midi.PrettyMIDI):
            if tempo is not None:
                raise ValueError("tempo applies to melodies; a PrettyMIDI carries its own tempo")
            if program is None:
                return item
            check_int("program", program, 0, 127)
            pm = copy.deepcopy(item)
            for instrument in pm.instruments:
                if not instrument.is_drum:
                    instrument.program = program
            return pm
        raise TypeError(f"expected a Melody or a pretty_midi.PrettyMIDI, got {type(item).__name__}")

    def render(self, melody_or_pm: Renderable, program: int | None = None,
               tempo: float | None = None) -> np.ndarray:
        """The audio of a melody (or MIDI) as float32 mono samples in [-1, 1] at ``sample_rate``.

        ``program``: General MIDI instrument (0-127; default 0 = piano for a melody, and the
        file's own instruments for a PrettyMIDI); ``tempo`` in beats per minute (default: the
        melody's). The audio is peak-normalised to :data:`PEAK`; a melody without notes gives one
        second of silence; music longer than ``max_seconds`` raises ValueError.

        Parameters
        ----------
        melody_or_pm : Melody or pretty_midi.PrettyMIDI
            What to play; a melody is written with :func:`fusion.render.midi.melody_to_midi`.
        program : int, optional
            General MIDI program number 0-127. For a PrettyMIDI it replaces the program of every
            non-drum instrument (the file itself is not changed).
        tempo : float, optional
            Tempo in beats (quarter notes) per minute, melodies only (default: the melody's).

        Returns
        -------
        numpy.ndarray
            float32 mono samples at ``sample_rate`` Hz, peak-normalised to :data:`PEAK` (0.9),
            starting at beat 0 and lasting the music's length in seconds plus the last note's
            release (one second of silence for a melody without notes).

        Raises
        ------
        ValueError
            Music longer than ``max_seconds``, a ``tempo`` given with a PrettyMIDI, or an
            invalid ``program``, ``tempo`` or note (as :func:`~fusion.render.midi.melody_to_midi`).
        TypeError
            ``melody_or_pm`` is neither a Melody nor a PrettyMIDI.
        AudioError
            The renderer has been closed.
        """
        pm = self._to_midi(melody_or_pm, program, tempo)
        seconds = pm.get_end_time()
        if seconds > self.max_seconds:
            raise ValueError(f"This music lasts {seconds / 60:.1f} minutes; at most "
                             f"{self.max_seconds / 60:g} minutes can be turned into audio.")
        with self._lock:
            if self._closed:
                raise AudioError("This renderer has been closed.")
            self._reset()
            raw = pm.fluidsynth(fs=self.sample_rate, synthesizer=self.synth, sfid=self.sfid,
                                normalize=False)
        audio = np.asarray(raw, dtype=np.float64)
        if audio.size == 0:
            return np.zeros(self.sample_rate, dtype=np.float32)
        peak = float(np.abs(audio).max())
        if peak > 0:
            audio = audio * (PEAK / peak)
        return np.clip(audio, -1.0, 1.0).astype(np.float32)

    # ------------------------------------------------------------------------------------------
    def to_gradio(self, audio: np.ndarray) -> tuple[int, np.ndarray]:
        """``(sample_rate, int16 samples)``, the value a ``gradio.Audio`` output accepts."""
        return self.sample_rate, to_int16(audio)

    def write_wav(self, audio: np.ndarray, path: str | os.PathLike) -> Path:
        """Write the audio as a 16-bit PCM mono WAV file at ``sample_rate``."""
        from scipy.io import wavfile

        path = Path(path)
        wavfile.write(str(path), self.sample_rate, to_int16(audio))
        return path


# -------------------------------------------------------------------------------------------------
MP3_KBPS = 96
#: LAME's speed/quality trade-off, 2 (best, slowest) .. 7 (fast): 7 encodes 17 s of melody in
#: about 30 ms on one core against 150 ms at 2, and a plain synthesised melody loses nothing audible
MP3_QUALITY = 7


def encode_mp3(audio: np.ndarray, sample_rate: int = DEFAULT_SAMPLE_RATE, kbps: int = MP3_KBPS) -> bytes:
    """Mono float audio in [-1, 1] (as :meth:`Renderer.render` returns) as MP3 bytes (CBR ``kbps``)."""
    import lameenc

    encoder = lameenc.Encoder()
    encoder.set_bit_rate(kbps)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_channels(1)
    encoder.set_quality(MP3_QUALITY)
    return bytes(encoder.encode(to_int16(audio).tobytes()) + encoder.flush())


def write_mp3(audio: np.ndarray, path: str | os.PathLike, sample_rate: int = DEFAULT_SAMPLE_RATE) -> Path:
    """Write :func:`encode_mp3` of the audio to ``path``."""
    path = Path(path)
    path.write_bytes(encode_mp3(audio, sample_rate))
    return path


_default: Renderer | None = None
_default_lock = threading.Lock()


def default_renderer() -> Renderer:
    """The app's shared renderer (bundled SoundFont, 44.1 kHz), created on first use."""
    global _default
    with _default_lock:
        if _default is None or _default.closed:
            _default = Renderer()
        return _default
