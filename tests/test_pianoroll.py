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
