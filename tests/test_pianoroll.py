"""The piano roll figure."""
from fusion.render import pianoroll
from fusion.melody import Melody, Note


def test_one_bar_per_note_at_its_pitch_and_time():
    m = Melody(notes=(Note(60, 0.0, 1.0), Note(67, 1.5, 0.5), Note(72, 4.0, 2.0)), meter=(3, 4))
    fig = pianoroll.figure(m, title="t")
    bar = fig.data[0]
    assert list(bar.y) == [60, 67, 72] and list(bar.base) == [0.0, 1.5, 4.0] and list(bar.x) == [1.0, 0.5, 2.0]
    assert list(bar.customdata) == ["C4", "G4", "C5"]
    assert len(fig.layout.shapes) == 3  # bar lines at 0, 3, 6 beats of 3/4
    assert pianoroll.figure(Melody(notes=())).data[0].y == ()


def test_a_continuation_s_primer_is_grey_and_its_end_marked():
    m = Melody(notes=(Note(60, 0.0, 1.0), Note(62, 1.0, 1.0), Note(64, 4.0, 1.0)))
    fig = pianoroll.figure(m, boundary=2.0)
    assert list(fig.data[0].marker.color) == [pianoroll.PRIMER, pianoroll.PRIMER, pianoroll.NEW]
    assert [s.x0 for s in fig.layout.shapes if s.line.dash is None] == [2.0]
    assert [a.text for a in fig.layout.annotations] == ["new bars ▸"]
    assert pianoroll.figure(m).layout.annotations == ()


def test_thumbnail_is_an_inline_svg_with_one_dash_per_note():
    m = Melody(notes=(Note(60, 0.0, 1.0), Note(72, 1.0, 3.0), Note(66, 6.0, 2.0)))
    svg = pianoroll.thumbnail(m, width=200, height=50)
    assert svg.startswith("<svg") and svg.count('class="note"') == 3 and "<script" not in svg
    assert svg.count("<line") == 3  # bar lines at 0, 4, 8 beats
    assert pianoroll.thumbnail(Melody(notes=())).count('class="note"') == 0


def test_long_titles_wrap_and_wide_melodies_name_fewer_pitches():
    title = "Ein feste Burg ist unser Gott, a long piece title (real folk)"
    assert all(len(line) <= 40 for line in pianoroll.wrap(title).split("<br>"))
    assert pianoroll.wrap(title).replace("<br>", " ") == title
    assert pianoroll.pitch_ticks(60, 72) == [60, 67, 72]
    assert pianoroll.pitch_ticks(30, 100) == [36, 48, 60, 72, 84, 96]  # more than three octaves: only the Cs
    wide = Melody(notes=(Note(30, 0.0, 1.0), Note(100, 1.0, 1.0)))
    fig = pianoroll.figure(wide, title=title)
    assert fig.layout.height > 300 and list(fig.layout.yaxis.tickvals) == [36, 48, 60, 72, 84, 96]
