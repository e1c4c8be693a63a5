"""The score (fusion/render/score.py): the MusicXML says what the MIDI plays, bar by bar, and
verovio engraves it, for hand-made melodies, real melodies of both genres and every system."""
import random
import re

import pytest
from music21 import converter

import fusion
from fusion import registry
from fusion.melody import TICKS_PER_BEAT, Melody, Note
from fusion.render import score


def parsed(xml: str):
    return converter.parseData(xml, format="musicxml")


def heard(xml: str) -> list[tuple[int, int, int]]:
    """What the score plays: (MIDI pitch, onset tick, length in ticks) per note, ties joined."""
    notes = parsed(xml).stripTies().flatten().notes
    return [(n.pitch.midi, round(n.offset * TICKS_PER_BEAT), round(n.quarterLength * TICKS_PER_BEAT)) for n in notes]


def measures(xml: str) -> list:
    return list(parsed(xml).parts[0].getElementsByClass("Measure"))


def svg_measures(pages: list[str]) -> int:
    return sum(len(re.findall(r' class="measure"', page)) for page in pages)


def sounding(m: Melody) -> list[tuple[int, int, int]]:
    return [tuple(t) for t in m.to_ticks()]


def bars_add_up(xml: str, bar_quarters: float) -> None:
    for k, m in enumerate(measures(xml)):
        assert m.duration.quarterLength == pytest.approx(bar_quarters), f"bar {k + 1}"


# the rhythm: how one note is written ------------------------------------------------------------
def test_a_note_is_written_as_tied_parts_that_add_up_cut_at_barlines():
    bar = 4 * TICKS_PER_BEAT
    assert score.pieces(0, 48, bar) == [48]  # a whole note
    assert score.pieces(0, 30, bar) == [24, 6]  # two and a half beats: half tied to eighth
    assert score.pieces(3, 12, bar) == [9, 3]  # a quarter a sixteenth late shows the beat
    assert score.pieces(42, 12, bar) == [6, 6]  # across the barline: cut there
    assert score.pieces(0, 5, bar) == [4, 1]  # an odd grid length: eighth triplet + 32nd triplet
    rng = random.Random(0)
    for _ in range(2000):
        start, length, bar = rng.randrange(200), rng.randrange(1, 150), rng.choice([36, 48, 72])
        parts = score.pieces(start, length, bar)
        assert sum(parts) == length and all(p in score.WRITABLE for p in parts)
        edges = [start + sum(parts[:i]) for i in range(len(parts) + 1)]
        assert not any(a // bar != (b - 1) // bar for a, b in zip(edges, edges[1:])), "a part crosses a barline"


# hand-made melodies -------------------------------------------------------------------------------
RESTS_AND_TIES = Melody(notes=(Note(60, 0.0, 1.0), Note(62, 2.0, 3.0), Note(64, 6.5, 0.5), Note(65, 7.0, 6.0)),
                        title="rests and ties", tempo=96)


def test_rests_and_ties_across_barlines():
    xml = score.musicxml(RESTS_AND_TIES, length=16)
    assert len(measures(xml)) == 4
    bars_add_up(xml, 4.0)
    assert heard(xml) == sounding(RESTS_AND_TIES)
    first, second, third, fourth = measures(xml)
    assert [r.quarterLength for r in first.getElementsByClass("Rest")] == [1.0]  # beat 2 is silent
    d_start, d_stop = [n for n in first.notes if n.pitch.midi == 62][0], second.notes[0]
    assert d_start.tie.type == "start" and d_stop.tie.type == "stop" and d_stop.pitch.midi == 62
    f = [n for n in second.notes if n.pitch.midi == 65][0]
    assert f.tie.type == "start" and third.notes[0].tie.type == "continue"  # F from bar 2 tied through bar 3
    assert fourth.notes[0].tie.type == "stop" and fourth.notes[0].quarterLength == 1.0  # into bar 4
    assert sum(r.quarterLength for r in fourth.getElementsByClass("Rest")) == 3.0  # filled to the bars asked for
    assert 'sound tempo="96"' in xml


def test_triplets_and_odd_grid_lengths_are_written_exactly():
    notes, t = [], 0
    for ticks in (4, 4, 4, 2, 2, 2, 5, 7, 1, 11, 3, 9, 8, 16, 13):  # on the 12-tick grid
        notes.append(Note(60 + len(notes), t / TICKS_PER_BEAT, ticks / TICKS_PER_BEAT))
        t += ticks + (1 if len(notes) % 4 == 0 else 0)  # a 32nd-triplet rest now and then
    m = Melody(notes=tuple(notes), title="triplets")
    xml, pages = score.engrave(m)
    assert heard(xml) == sounding(m)
    bars = len(measures(xml))
    assert bars == -(-t // 48)
    bars_add_up(xml, 4.0)
    assert "<time-modification>" in xml and svg_measures(pages) == bars


@pytest.mark.parametrize("meter,bar", [((3, 4), 3.0), ((6, 8), 3.0), ((2, 2), 4.0), ((3, 6), 4.0)])
def test_the_melody_s_meter_is_kept(meter, bar):
    m = Melody(notes=(Note(67, 0.0, 1.5), Note(69, 1.5, 0.5), Note(71, 2.0, 3.0)), meter=meter)
    xml = score.musicxml(m)
    shown = meter if meter != (3, 6) else (4, 4)  # a meter a score cannot show is written 4/4
    assert f"<beats>{shown[0]}</beats>" in xml and f"<beat-type>{shown[1]}</beat-type>" in xml
    bars_add_up(xml, bar)
    assert heard(xml) == sounding(m)


def test_a_continuation_marks_where_the_player_s_bars_end():
    m = Melody(notes=tuple(Note(60 + i % 5, i * 1.0, 1.0) for i in range(12)))
    xml = score.musicxml(m, length=12, boundary=8.0)  # two bars of primer, one new bar
    bars = measures(xml)
    assert bars[1].rightBarline is not None and bars[1].rightBarline.type == "double"
    words = [(k, e.content, e.offset) for k, b in enumerate(bars) for e in b.getElementsByClass("TextExpression")]
    assert words == [(2, score.NEW_BARS, 0.0)]
    colours = [n.style.color for n in parsed(xml).flatten().notes]
    assert colours == [score.PRIMER_COLOUR] * 8 + [None] * 4
    mid = score.musicxml(m, length=12, boundary=6.5)  # the primer ends inside a bar: words only
    bars = measures(mid)
    assert all(b.rightBarline is None or b.rightBarline.type != "double" for b in bars)
    assert [(k, e.offset) for k, b in enumerate(bars) for e in b.getElementsByClass("TextExpression")] == [(1, 2.5)]


def test_key_signature_and_spelling_follow_the_key():
    m = Melody(notes=(Note(62, 0, 1), Note(66, 1, 1), Note(70, 2, 1)), key_tonic=2, key_mode="major")
    assert "<fifths>2</fifths>" in score.musicxml(m)
    flat = Melody(notes=(Note(65, 0, 1), Note(70, 1, 1), Note(63, 2, 1)), key_tonic=5, key_mode="major")
    names = [n.pitch.name for n in parsed(score.musicxml(flat)).flatten().notes]
    assert "<fifths>-1</fifths>" in score.musicxml(flat) and names == ["F", "B-", "E-"]


def test_empty_melody_is_a_bar_of_rest_and_long_scores_come_in_pages():
    xml, pages = score.engrave(Melody(notes=()))
    assert len(measures(xml)) == 1 and svg_measures(pages) == 1
    m = Melody(notes=tuple(Note(60 + i % 12, i * 0.5, 0.5) for i in range(32 * 8)))
    xml = score.musicxml(m)
    pages = score.svg(xml, {"pageHeight": 800, "adjustPageHeight": False})
    assert len(pages) > 1 and svg_measures(pages) == 32
    assert all(p.lstrip().startswith("<svg") for p in pages)


def test_html_shows_the_wide_layout_on_screens_and_the_narrow_one_on_phones():
    xml = score.musicxml(RESTS_AND_TIES, length=16)
    page = score.html(xml)
    assert page.count('class="score-page"') == 2 and 'data-layout="wide"' in page and 'data-layout="narrow"' in page
    assert f"@media (max-width:{score.NARROW_SCREEN}px)" in page
    only = score.html(xml, ("narrow",))
    assert only.count('class="score-page"') == 1 and "@media" not in only
    assert "http://" not in re.sub(r'xmlns(:xlink)?="http://www\.w3\.org/[^"]*"', "", page)  # nothing to fetch


# real melodies and every system -------------------------------------------------------------------
@pytest.mark.data
@pytest.mark.slow
@pytest.mark.parametrize("genre", ["jazz", "folk"])
def test_real_melodies_of_both_genres(genre):
    from fusion.data import corpus

    windows = corpus.load(genre).windows("test")
    rng = random.Random(1)
    chosen = rng.sample(windows, 12)
    if genre == "folk":  # and a few in other meters than 4/4, if the test split has them
        chosen += [w for w in windows if w.meter not in ((4, 4), None)][:4]
    for m in chosen:
        xml, pages = score.engrave(m)
        bar = m.bar_beats if score.bar_ticks(m)[1] == (m.meter or (4, 4)) else 4.0
        expected = max(1, -(-round(m.duration * TICKS_PER_BEAT) // round(bar * TICKS_PER_BEAT)))
        assert len(measures(xml)) == expected == svg_measures(pages), m.source_id
        assert heard(xml) == sounding(m), m.source_id


@pytest.mark.data
@pytest.mark.slow
@pytest.mark.parametrize("system", registry.TRAINED)
def test_the_score_of_every_system_renders(system):
    bars = 4
    for m in fusion.load_generator(system).sample(3, bars=bars, seed=5):
        xml, pages = score.engrave(m, length=bars * m.bar_beats)
        assert len(measures(xml)) == bars == svg_measures(pages), (system, m.title)
        assert heard(xml) == sounding(m), (system, m.title)
        assert len(re.findall(r' class="note"', "".join(pages))) >= len(m.notes)  # every note engraved


def test_engraves_in_a_web_server_s_worker_threads():
    """verovio's default font folder is per thread: a server's worker threads must find fonts too."""
    from concurrent.futures import ThreadPoolExecutor

    xml = score.musicxml(RESTS_AND_TIES, length=16)
    score._VEROVIO.clear()  # the toolkit is made again, in a worker thread
    with ThreadPoolExecutor(4) as pool:
        pages = list(pool.map(lambda _: score.svg(xml), range(8)))
    assert all(svg_measures(p) == 4 for p in pages)
