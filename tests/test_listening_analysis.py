"""Table II, Fleiss' kappa and the safe CSV export (listening_test/analysis.py)."""
import numpy as np
import pandas as pd
import pytest

from listening_test import analysis


def test_fleiss_kappa_of_the_textbook_example():
    # Fleiss (1971) as reproduced on Wikipedia: 10 subjects, 14 raters, 5 categories -> 0.210
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    assert analysis.fleiss_kappa_of(table) == pytest.approx(0.210, abs=0.001)
    assert analysis.fleiss_kappa_of([[3, 0], [0, 3], [3, 0]]) == pytest.approx(1.0)
    assert np.isnan(analysis.fleiss_kappa_of([[1, 0], [0, 1]]))  # nobody shares a clip


def test_csv_cells_cannot_become_formulas():
    df = pd.DataFrame({"external_id": ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tx", "fine"],
                       "n": [1, 2, 3, 4, 5, 6]})
    text = analysis.safe_csv(df)
    lines = text.splitlines()[1:]
    assert [line.split(",")[0].strip('"') for line in lines][:5] == ["'=HYPERLINK(\"\"http://x\"\")", "'+1", "'-2",
                                                                       "'@SUM(A1)", "'\tx"]
    assert lines[5] == '"fine","6"'  # every field quoted


def _frame(rows):
    return pd.DataFrame(rows, columns=["participant", "external_id", "position", "question", "choice", "answered_at",
                                       "stimulus", "role", "system", "genre"])


def test_table_ii_filters_and_fusion_level():
    rows = []
    for p in range(20):
        good = p < 15
        rows.append((p, None, 0, "genre", "jazz" if good else "folk", None, 1, "qualification", "real jazz", "jazz"))
        rows.append((p, None, 1, "fusion", "neither" if p != 3 else "jazz", None, 2, "catch", "catch", None))
        # fusion: half the listeners say jazz, half folk -> FL 100; musicality all expert
        rows.append((p, None, 2, "fusion", "jazz" if p % 2 else "folk", None, 10 + p % 2, "main", "fusion", None))
        rows.append((p, None, 2, "musicality", "expert", None, 10 + p % 2, "main", "fusion", None))
    df = _frame(rows)
    assert analysis.qualification_accuracy(df) == 0.75
    flags = analysis.participant_flags(df)
    assert flags.qualified.sum() == 15 and (~flags.attentive).sum() == 1
    assert analysis.filtered(df, qualified=True, attentive=True).participant.nunique() == 14
    t = analysis.table_ii(df, resamples=200).set_index("system")
    assert t.loc["fusion", "answers"] == 20 and t.loc["fusion", "participants"] == 20
    assert t.loc["fusion", "jazz"] == 50 and t.loc["fusion", "expert"] == 100
    assert t.loc["fusion", "fl"] == 100 and t.loc["fusion", "fl_ci_low"] <= 100 <= t.loc["fusion", "fl_ci_high"]
    assert t.loc["fusion", "paper_fl_recomputed"] == pytest.approx(70.0)
    assert t.loc["rm", "answers"] == 0 and np.isnan(t.loc["rm", "fl"])
