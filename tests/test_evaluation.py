"""``python -m fusion evaluate --quick`` end to end on the committed checkpoints and the real data:
every output file, its columns, and values that must hold whatever the systems are."""
import json

import numpy as np
import pandas as pd
import pytest

from fusion import cli, evaluation
from fusion import features
from fusion.melody import Melody, Note

ISSUE_COLUMNS = ["system", "feature", "metric", "d_jazz", "d_folk", "diff", "ratio", "balance", "ci_low", "ci_high"]


@pytest.fixture(scope="module")
def out(tmp_path_factory, wjazzd_dir, essen_dir):
    out = tmp_path_factory.mktemp("reports")
    assert cli.main(["evaluate", "--quick", "--out", str(out), "--quiet"]) == 0
    return out


@pytest.mark.data
@pytest.mark.slow
def test_every_output_is_written(out):
    for name in ("table1.csv", "sequential.csv", "novelty.csv", "judge.csv", "evaluation.json", "evaluation.md",
                 "plotly.min.js"):
        assert (out / name).stat().st_size > 0, name
    for fig in ("dd", "npd", "ratio", "judge"):
        html = (out / "figures" / f"{fig}.html").read_text()
        assert 'src="../plotly.min.js"' in html and "cdn.plot.ly" not in html
        png = (out / "figures" / f"{fig}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


@pytest.mark.data
@pytest.mark.slow
def test_table1_columns_rows_and_invariants(out):
    t = pd.read_csv(out / "table1.csv")
    assert list(t.columns[:10]) == ISSUE_COLUMNS
    expected = {(s, f, m) for s in evaluation.ORDER for f, m in
                [("dd", "eud"), ("dd", "em"), ("npd", "eud"), ("npd", "em"), ("npd", "em_circular")]}
    assert set(zip(t.system, t.feature, t.metric)) == expected
    assert (t.ratio >= 1 - 1e-9).all()  # triangle inequality
    assert (t["diff"] >= -1e-9).all() and t.balance.between(0, 1 + 1e-9).all()
    assert (t.ci_low <= t.ci_high).all() and (t.balance_ci_low <= t.balance_ci_high).all()
    assert np.allclose(t.ratio, (t.d_jazz + t.d_folk) / ((t.d_jazz + t.d_folk) - t["diff"]))
    fusion = t[(t.system == "fusion") & (t.metric == "eud") & (t.feature == "dd")].iloc[0]
    assert fusion.paper_ratio == 1.183


@pytest.mark.parametrize("genre,other", [("jazz", "folk"), ("folk", "jazz")])
@pytest.mark.data
@pytest.mark.slow
def test_real_held_out_music_is_nearer_its_own_genre(out, genre, other):
    t = pd.read_csv(out / "table1.csv")
    rows = t[t.system == f"real {genre}"]
    assert (rows[f"d_{genre}"] < rows[f"d_{other}"]).all()
    assert (rows.balance > 0.3).all()  # far from balanced: it *is* one genre


@pytest.mark.data
@pytest.mark.slow
def test_sequential_and_novelty_tables(out):
    s = pd.read_csv(out / "sequential.csv")
    assert list(s.columns[:10]) == ISSUE_COLUMNS
    assert set(s.feature) == {f.name for f in features.SEQUENTIAL_FEATURES}
    assert (s.ratio >= 1 - 1e-9).all()
    n = pd.read_csv(out / "novelty.csv").set_index("system")
    assert n.copied_share.between(0, 1).all() and (n.ci_low <= n.ci_high).all()
    assert set(n.index) == set(evaluation.ORDER)


@pytest.mark.data
@pytest.mark.slow
def test_judge_table(out):
    j = pd.read_csv(out / "judge.csv").set_index("system")
    assert np.allclose(j[["jazz", "folk", "mixture", "neither"]].sum(axis=1), 100)
    assert j.fl.between(0, 100).all() and (j.fl_ci_low <= j.fl_ci_high + 1e-9).all()
    assert j.loc["real jazz", "jazz"] > 80 and j.loc["real folk", "folk"] > 80
    assert j.loc["real jazz", "p_jazz"] > 0.8 > 0.2 > j.loc["real folk", "p_jazz"]
    # the positive controls, fusions made of real music: the judge calls them mixtures far more often
    # than either genre's own windows, and a hybrid's pitch and rhythm of different genres
    for control in ("real medley", "real hybrid"):
        assert j.loc[control, "mixture"] > 2 * max(j.loc["real jazz", "mixture"], j.loc["real folk", "mixture"], 10)
    assert j.loc["real hybrid", "mixture_aspect"] > j.loc["real medley", "mixture_aspect"]
    assert j.loc["real medley", "mixture_time"] > j.loc["real hybrid", "mixture_time"]
    assert j.loc["fusion", "paper_fl"] == 70.0
    meta = json.loads((out / "evaluation.json").read_text())
    assert meta["judge_accuracy"]["accuracy"] >= 0.95
    assert meta["options"]["samples"] == 40 and "commit" in meta


@pytest.mark.data
@pytest.mark.slow
def test_markdown_report(out):
    md = (out / "evaluation.md").read_text()
    for part in ("## Goals", "## Table I", "paper 1.183", "## Sequential measures", "## Novelty",
                 "## The automatic judge", "Automatic Table II"):
        assert part in md, part
    assert md.count("**") >= 8  # every goal stated as met or missed


def test_bootstrap_histograms_follow_the_drawn_melodies():
    a = Melody(notes=(Note(60, 0, 1), Note(62, 1, 1)))
    b = Melody(notes=(Note(67, 0, 1),))
    counts = features.NPD.matrix([a, b])
    (full,) = evaluation._histograms(counts, [features.NPD], np.array([0, 1]))
    assert full[[0, 2, 7]] == pytest.approx([1 / 3, 1 / 3, 1 / 3])
    (drawn,) = evaluation._histograms(counts, [features.NPD], np.array([[0, 0], [1, 1]]))
    assert drawn[0, [0, 2]] == pytest.approx([0.5, 0.5]) and drawn[1, 7] == 1.0


def test_bad_options_are_clear_errors(tmp_path, capsys):
    assert cli.main(["evaluate", "--quick", "--samples", "1", "--out", str(tmp_path)]) == 1
    assert "--samples must be in 2..10000" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["evaluate", "--systems", "polka"])
