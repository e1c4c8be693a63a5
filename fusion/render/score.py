"""A melody as a score a musician reads: MusicXML (music21) engraved to SVG (verovio), offline.

:func:`musicxml` writes the :class:`~fusion.melody.Melody` as one staff in its meter (4/4 for the
generators; the real folk excerpts keep their 3/4 or 6/8) with its key signature, tempo and title;
:func:`svg` engraves that MusicXML with verovio into SVG pages; :func:`engrave` does both.

How the rhythm is written (the melody lives on the 12-tick grid, 12 ticks per quarter note, which
holds sixteenths, eighth triplets and sixteenth triplets; see :mod:`fusion.melody`):

* Every gap between notes is a visible rest, and the last bar is filled with rests to the
  melody's length (``length``, e.g. the bars asked for), so every bar adds up.
* A note or rest that crosses a barline is split there; the note's parts are tied.
* Within a bar, a note starting on a beat is one note when its length can be written as one
  (whole, half, quarter, eighth, sixteenth, dotted or double-dotted, or a triplet value: half,
  quarter, eighth, sixteenth and 32nd triplets); otherwise it is cut at the next beat, and an
  off-beat note is cut where its beat ends, so a syncopation shows the beat. What is left inside
  one beat is written greedily as the longest writable values, tied. So an odd grid length (5/12
  of a beat, a quintuplet squeezed onto the grid, ...) becomes e.g. an eighth triplet tied to a
  32nd triplet: exactly the time the MIDI plays, never an error. Triplet brackets are drawn per beat
  (one bracket over each beat's triplet values), and beams join the notes of one beat.
* Pitches are spelt with sharps in sharp keys and C major (but B-flat and E-flat, as music21
  spells them), with flats in flat keys.

A continuation (:func:`musicxml` with ``boundary``) marks where the player's bars end: the
primer's notes are grey, a text direction "new bars" stands over the first new note's position,
and when that is a barline it is a double barline.
"""
from __future__ import annotations

import copy
import math
import threading
from fractions import Fraction

from fusion.melody import TICKS_PER_BEAT, Melody

#: verovio's layout (the page width is set per layout, :data:`LAYOUTS`): scale 40, so a page
#: ``pageWidth`` units wide is ``pageWidth / 2.5`` pixels before the browser scales it; one tall
#: page (cut into more pages only past that height), no header (the page shows the title
#: itself), a viewBox so the browser scales it, ids that cannot clash between two scores. The
#: music font's text face (for the note in the tempo mark) is *not* embedded in every SVG
#: (``smuflTextFont: none``): it is 57 KB, four fifths of a score; the page loads it once,
#: :func:`text_font_css`. No indentation (``svgFormatRaw``): a quarter less to send.
VEROVIO_OPTIONS = {"pageWidth": 2000, "pageHeight": 60000, "scale": 40, "adjustPageHeight": True,
                   "breaks": "auto", "header": "none", "footer": "none", "svgViewBox": True,
                   "svgHtml5": True, "svgRemoveXlink": True, "pageMarginTop": 40, "pageMarginBottom": 40,
                   "pageMarginLeft": 40, "pageMarginRight": 40, "smuflTextFont": "none", "svgFormatRaw": True}
#: the music font verovio engraves with (its text face draws the note of a tempo mark)
MUSIC_FONT = "Leipzig"
#: colour of the player's own notes in a continuation (the new bars are black)
PRIMER_COLOUR = "#8A8A8A"
#: text over the first note of a continuation's new bars
NEW_BARS = "new bars"
#: note lengths in ticks that one notehead writes (12 ticks = a quarter note): plain, dotted and
#: double-dotted values, and triplet values (16 = half triplet ... 1 = 32nd triplet); longest first
WRITABLE = (48, 42, 36, 24, 21, 18, 16, 12, 9, 8, 6, 4, 3, 2, 1)
SHARPS = {1: "C#", 3: "E-", 6: "F#", 8: "G#", 10: "B-"}
SHARP_KEYS = {1: "C#", 3: "D#", 6: "F#", 8: "G#", 10: "A#"}
FLATS = {1: "D-", 3: "E-", 6: "G-", 8: "A-", 10: "B-"}
NAMES = ("C", None, "D", None, "E", "F", None, "G", None, "A", None, "B")
MAJOR_KEYS = ("C", "D-", "D", "E-", "E", "F", "F#", "G", "A-", "A", "B-", "B")
MINOR_KEYS = ("c", "c#", "d", "e-", "e", "f", "f#", "g", "g#", "a", "b-", "b")


class ScoreError(ValueError):
    """A melody that cannot be engraved; ``str(error)`` says why, for the page."""


def bar_ticks(melody: Melody) -> tuple[int, tuple[int, int]]:
    """One bar of ``melody`` in ticks, and the meter written: the melody's own, or 4/4 when it has
    none or one a score cannot show (a denominator that is not a power of two)."""
    num, den = melody.meter or (4, 4)
    if not (1 <= num <= 32 and den in (1, 2, 4, 8, 16, 32)):
        num, den = 4, 4
    return num * 4 * TICKS_PER_BEAT // den, (num, den)


def pieces(start: int, length: int, bar: int) -> list[int]:
    """How a note (or rest) of ``length`` ticks starting at tick ``start`` is written: the lengths
    of its tied parts, in ticks (module docstring: cut at barlines, then at beats, then into
    writable values)."""
    out: list[int] = []
    t, end = start, start + length
    while t < end:
        stop = min(end, (t // bar + 1) * bar)  # this bar's part
        out += _within_bar(t, stop - t)
        t = stop
    return out


def _within_bar(start: int, length: int) -> list[int]:
    out: list[int] = []
    t, end = start, start + length
    while t < end:
        left = end - t
        if t % TICKS_PER_BEAT == 0:
            if left in WRITABLE:
                out.append(left)
                break
            whole_beats = [v for v in WRITABLE if v <= left and v % TICKS_PER_BEAT == 0]
            step = whole_beats[0] if whole_beats else left
        else:
            step = min(left, TICKS_PER_BEAT - t % TICKS_PER_BEAT)  # up to the beat
        for v in _greedy(step):
            out.append(v)
        t += step
    return out


def _greedy(ticks: int) -> list[int]:
    out = []
    while ticks:
        v = next(v for v in WRITABLE if v <= ticks)
        out.append(v)
        ticks -= v
    return out


def _spell(midi_pitch: int, sharps: int) -> str:
    """The note name of a MIDI pitch in a key with ``sharps`` sharps (negative: flats)."""
    pc, octave = midi_pitch % 12, midi_pitch // 12 - 1
    name = NAMES[pc] or (FLATS if sharps < 0 else SHARP_KEYS if sharps > 0 else SHARPS)[pc]
    return f"{name}{octave}"


def _key(melody: Melody):
    """The key signature: the melody's key when it is major or minor, else C major (the models'
    melodies are in C after transposition)."""
    from music21 import key

    if melody.key_tonic is None or melody.key_mode not in ("major", "minor"):
        return key.Key("C")
    names = MAJOR_KEYS if melody.key_mode == "major" else MINOR_KEYS
    return key.Key(names[melody.key_tonic % 12], melody.key_mode)


def score_stream(melody: Melody, length: float | None = None, boundary: float | None = None):
    """The melody as a music21 :class:`~music21.stream.Score` (one part, measures made).

    Parameters
    ----------
    melody : Melody
        One voice; onsets and durations in quarter notes (quantized here to the 12-tick grid).
    length : float, optional
        How long the score lasts in quarter notes (e.g. the bars asked for): the last bar is
        filled with rests to there. Default: the melody's end, rounded up to a whole bar.
    boundary : float, optional
        Where a continuation's new bars begin, in quarter notes: the notes before it are the
        player's (grey), and a "new bars" direction (with a double barline on a barline) marks it.

    Returns
    -------
    music21.stream.Score
    """
    from music21 import bar as m21bar, clef, expressions, metadata, meter, note, stream, tempo, tie

    ticks = melody.to_ticks()
    one_bar, (num, den) = bar_ticks(melody)
    end = max(ticks[-1][1] + ticks[-1][2] if ticks else 0, round((length or 0) * TICKS_PER_BEAT))
    end = max(one_bar, math.ceil(end / one_bar) * one_bar)
    cut = None if boundary is None else round(boundary * TICKS_PER_BEAT)
    k = _key(melody)
    # the measures are built here, bar by bar (every piece below lies within one bar): music21's
    # makeMeasures would copy the whole stream and cost two thirds of the score's time
    measures = [stream.Measure(number=i + 1) for i in range(end // one_bar)]
    signature = meter.TimeSignature(f"{num}/{den}")
    signature.beamSequence = copy.deepcopy(signature.beatSequence)  # beams join one beat's notes only
    beat = Fraction(signature.beatDuration.quarterLength)
    first = measures[0]
    first.insert(0, clef.bestClef(stream.Stream([note.Note(p) for p, _, _ in ticks]) if ticks else stream.Stream(),
                                  recurse=True))
    first.insert(0, k)
    first.insert(0, signature)
    first.insert(0, tempo.MetronomeMark(number=round(melody.tempo), referent=1.0))

    def place(element, tick: int) -> None:
        """Put ``element`` at ``tick`` (from the start), in its bar."""
        measures[tick // one_bar].insert(Fraction(tick % one_bar, TICKS_PER_BEAT), element)
    events, t = [], 0  # (pitch or None for a rest, onset tick, length in ticks)
    for pitch, onset, dur in ticks:
        if onset > t:
            events.append((None, t, onset - t))
        events.append((pitch, onset, dur))
        t = onset + dur
    if end > t:
        events.append((None, t, end - t))
    for pitch, onset, dur in events:
        parts = pieces(onset, dur, one_bar)
        at = onset
        for i, piece in enumerate(parts):
            n = note.Rest() if pitch is None else note.Note(_spell(pitch, k.sharps))
            n.duration.quarterLength = Fraction(piece, TICKS_PER_BEAT)
            if pitch is not None and len(parts) > 1:
                n.tie = tie.Tie("start" if i == 0 else "stop" if i == len(parts) - 1 else "continue")
            if pitch is not None and cut is not None and onset < cut:
                n.style.color = PRIMER_COLOUR
            place(n, at)
            at += piece
    if cut is not None and 0 < cut < end:
        words = expressions.TextExpression(NEW_BARS)
        words.placement = "above"
        place(words, cut)
    if cut is not None and 0 < cut < end and cut % one_bar == 0:
        measures[cut // one_bar - 1].rightBarline = m21bar.Barline("double")
    measures[-1].rightBarline = m21bar.Barline("final")
    measured = stream.Part()
    for measure in measures:
        _brackets_per_beat(measure, beat)
        measured.append(measure)
    measured.makeBeams(inPlace=True)
    score = stream.Score([measured])
    score.insert(0, metadata.Metadata(title=melody.title or "melody"))
    return score


def _brackets_per_beat(measure, beat: Fraction) -> None:
    """One triplet bracket per beat, over that beat's triplet notes and rests (music21 would run
    one bracket across beats whenever triplets follow each other)."""
    groups: dict[int, list] = {}
    for n in measure.notesAndRests:
        if n.duration.tuplets:
            groups.setdefault(int(Fraction(n.offset) // beat), []).append(n)
    for group in groups.values():
        for n in group:
            n.duration.tuplets[0].type = None
            n.duration.tuplets[0].bracket = True
        if len(group) == 1:
            group[0].duration.tuplets[0].type = "startStop"
        else:
            group[0].duration.tuplets[0].type = "start"
            group[-1].duration.tuplets[0].type = "stop"


def musicxml(melody: Melody, length: float | None = None, boundary: float | None = None) -> str:
    """The melody as a MusicXML document (a string); arguments as :func:`score_stream`."""
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    try:
        exporter = GeneralObjectExporter(score_stream(melody, length, boundary))
        exporter.makeNotation = False  # the notation is made above; music21 would redo brackets
        data = exporter.parse()
    except Exception as exc:  # music21's notation helpers raise many types; say which melody failed
        raise ScoreError(f"this melody could not be written as a score ({type(exc).__name__}: {exc})") from exc
    return data.decode("utf-8")


_VEROVIO: dict = {}  # the one toolkit, made on first use
_VEROVIO_LOCK = threading.Lock()  # a toolkit holds one document at a time: one engraving at a time


def _toolkit():
    """verovio's toolkit, with its fonts loaded from the package's own folder. The folder is set on
    the toolkit itself: verovio's default folder is set per thread, so a toolkit made in a web
    server's worker thread would otherwise find no fonts."""
    if "toolkit" not in _VEROVIO:
        from importlib.resources import files

        import verovio

        verovio.enableLog(verovio.LOG_OFF)
        tk = verovio.toolkit(False)
        if not tk.setResourcePath(str(files("verovio") / "data")):
            raise ScoreError("verovio's fonts could not be loaded")
        _VEROVIO["toolkit"] = tk
    return _VEROVIO["toolkit"]


def text_font_css() -> str:
    """The CSS ``@font-face`` of the music font's text face (:data:`MUSIC_FONT`, as verovio ships
    it, the font inline): a page that shows scores loads it once, and every SVG uses it."""
    from importlib.resources import files

    return (files("verovio") / "data" / f"{MUSIC_FONT}.css").read_text(encoding="utf-8")


def svg(xml: str, options: dict | None = None) -> list[str]:
    """MusicXML engraved by verovio: one SVG document per page (usually one page)."""
    return svg_layouts(xml, [options or {}])[0]


def svg_layouts(xml: str, layouts: list[dict]) -> list[list[str]]:
    """The MusicXML engraved once per layout (options over :data:`VEROVIO_OPTIONS`), read by
    verovio once and laid out again for each further layout: per layout, its SVG pages."""
    out = []
    with _VEROVIO_LOCK:
        tk = _toolkit()
        for i, options in enumerate(layouts):
            tk.resetOptions()
            tk.setOptions({**VEROVIO_OPTIONS, **options})
            if i == 0:
                if not tk.loadData(xml):
                    raise ScoreError("the score could not be engraved (verovio refused the MusicXML)")
            else:
                tk.redoLayout()
            out.append([tk.renderToSVG(page) for page in range(1, tk.getPageCount() + 1)])
    return out


def engrave(melody: Melody, length: float | None = None, boundary: float | None = None) -> tuple[str, list[str]]:
    """The melody's MusicXML and its SVG pages (:func:`musicxml`, :func:`svg`)."""
    xml = musicxml(melody, length, boundary)
    return xml, svg(xml)


#: the two layouts of :func:`html`: a page-wide one (about four 4/4 bars a line, for screens
#: wider than :data:`NARROW_SCREEN` pixels) and a narrow one (about two bars a line: phones, and
#: the columns of the demo's side-by-side comparison)
LAYOUTS = {"wide": {"pageWidth": 2000}, "narrow": {"pageWidth": 1000}}
NARROW_SCREEN = 640


def html(xml: str, layouts: tuple[str, ...] = ("wide", "narrow")) -> str:
    """The score for a web page: the SVG pages of each layout in :data:`LAYOUTS`, in one HTML
    fragment that shows the wide layout on screens wider than :data:`NARROW_SCREEN` pixels and
    the narrow one on phones (a CSS media query; one layout is shown everywhere when only one is
    asked for). Each layout scrolls sideways rather than shrinking below a readable size."""
    blocks = []
    for name, engraved in zip(layouts, svg_layouts(xml, [LAYOUTS[name] for name in layouts])):
        pages = "".join(f'<div class="score-page">{page}</div>' for page in engraved)
        blocks.append(f'<div class="score-{name}" data-layout="{name}">{pages}</div>')
    both = len(layouts) > 1
    style = (".fusion-score{overflow-x:auto;background:#fff;border-radius:4px}"
             ".fusion-score svg{display:block;width:100%;height:auto}"
             ".fusion-score .score-wide{min-width:560px}.fusion-score .score-narrow{min-width:300px}"
             + (f".fusion-score .score-narrow{{display:none}}@media (max-width:{NARROW_SCREEN}px)"
                "{.fusion-score .score-wide{display:none}.fusion-score .score-narrow{display:block}}" if both else ""))
    return f'<div class="fusion-score"><style>{style}</style>{"".join(blocks)}</div>'
