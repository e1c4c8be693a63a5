"""The paper's Fusion Level formula reproduces its printed Table II."""
import pytest

from fusion.evaluation import paper


@pytest.mark.parametrize("system", [s for s in paper.TABLE_II if s not in ("mc", "gan")])
def test_fusion_level_reproduces_the_printed_values(system):
    row = paper.TABLE_II[system]
    fl = paper.fusion_level(*(row[k] for k in paper.LABELS))
    assert 100 * fl == pytest.approx(row["fl"], abs=0.05)


def test_mc_printed_value_is_a_typo_in_the_paper():
    row = paper.TABLE_II["mc"]
    assert 100 * paper.fusion_level(*(row[k] for k in paper.LABELS)) == pytest.approx(18.0)
    assert row["fl"] == 16.0  # as printed


def test_gan_row_sums_to_91_percent_in_the_paper():
    row = paper.TABLE_II["gan"]
    assert sum(row[k] for k in paper.LABELS) == pytest.approx(91.0)
    # the printed 69 is the formula with the denominator taken as 100 ...
    assert 100 - (abs(row["jazz"] - row["folk"]) + row["neither"]) == pytest.approx(row["fl"])
    # ... the row's own total gives 65.9
    assert 100 * paper.fusion_level(*(row[k] for k in paper.LABELS)) == pytest.approx(65.93, abs=0.01)


def test_fusion_level_extremes():
    assert paper.fusion_level(0, 0, 10, 0) == 1.0  # all "mixture"
    assert paper.fusion_level(5, 5, 0, 0) == 1.0  # half pure jazz, half pure folk: also 1
    assert paper.fusion_level(10, 0, 0, 0) == 0.0
    assert paper.fusion_level(0, 0, 0, 7) == 0.0
    assert paper.fusion_level(30, 20, 40, 10) == paper.fusion_level(3, 2, 4, 1)  # scale-free
    with pytest.raises(ValueError):
        paper.fusion_level(0, 0, 0, 0)
