"""The automatic listening judge (fusion/evaluation/judge.py), trained and tested on the real data."""
import numpy as np
import pytest

from fusion.data import corpus
from fusion.evaluation import judge as J
from fusion.melody import Melody, Note


@pytest.fixture(scope="module")
def windows(wjazzd_dir, essen_dir):
    c = {g: corpus.load(g) for g in ("jazz", "folk")}
    return {(g, s): c[g].windows(s) for g in c for s in corpus.SPLITS}


@pytest.fixture(scope="module")
def judge(windows):
    rng = np.random.default_rng(0)
    train = {g: [windows[g, "train"][i] for i in rng.permutation(len(windows[g, "train"]))[:3000]]
             for g in ("jazz", "folk")}
    return J.Judge.fit(train, {g: windows[g, "val"] for g in ("jazz", "folk")})


@pytest.mark.data
def test_test_windows_come_from_pieces_the_judge_never_saw(windows):
    for g in ("jazz", "folk"):
        seen = {w.source_id for s in ("train", "val") for w in windows[g, s]}
        assert seen.isdisjoint({w.source_id for w in windows[g, "test"]})


@pytest.fixture(scope="module")
def validation(judge, windows):
    return judge.validate({g: windows[g, "test"] for g in ("jazz", "folk")}, n_mixtures=200)


@pytest.mark.data
@pytest.mark.slow
def test_accuracy_on_unseen_pieces_is_at_least_95_percent(validation, windows):
    acc = validation
    assert acc["windows"] == {"jazz": len(windows["jazz", "test"]), "folk": len(windows["folk", "test"])}
    assert acc["accuracy"] >= 0.95
    assert min(acc["per_genre"].values()) >= 0.95
    for g in ("jazz", "folk"):  # real music is mostly called by its own genre, rarely "neither"
        assert acc["labels"][g][g] > 0.8
        assert acc["labels"][g]["neither"] < 0.15
        assert sum(acc["labels"][g].values()) == pytest.approx(1.0)


@pytest.mark.data
@pytest.mark.slow
def test_known_mixtures_are_mostly_called_mixture(validation):
    for kind in ("splices", "hybrids"):
        assert validation["labels"][kind]["mixture"] > 0.6, kind
        assert validation["labels"][kind]["mixture"] > validation["labels"]["jazz"]["mixture"] + 0.4


@pytest.mark.data
@pytest.mark.slow
def test_where_the_judge_puts_the_middle_between_the_genres(validation):
    """P(jazz) rises along the segment from folk's mean features to jazz's, crossing 1/2 where
    the bisection says (the judge's boundaries are reported, not assumed to be halfway)."""
    between = validation["between"]
    assert set(between) == {"whole", "pitch", "rhythm"}
    for name, r in between.items():
        assert r["p_jazz_at_0.25"] < r["p_jazz_at_0.5"] < r["p_jazz_at_0.75"], name
        assert 0.0 < r["crossing_t"] < 1.0 and 0.0 <= r["pairs_called_jazz"] <= 1.0
        assert (r["crossing_t"] < 0.5) == (r["p_jazz_at_0.5"] > 0.5), name


def test_between_finds_the_boundary_of_a_known_classifier():
    """On two clouds with the same spread, a balanced logistic regression crosses at t = 1/2; when
    the 'folk' cloud is tight and the 'jazz' cloud wide, the crossing moves toward folk."""
    rng = np.random.default_rng(0)
    width = J.describe(Melody(notes=(Note(60, 0.0, 1.0), Note(62, 1.0, 1.0)))).shape[0]

    def crossing(jazz_sd: float) -> float:
        jazz = rng.normal(1.0, jazz_sd, (2000, width))
        folk = rng.normal(-1.0, 0.3, (2000, width))
        x, y = np.concatenate([jazz, folk]), np.r_[np.ones(2000), np.zeros(2000)]
        model = J._classifier(x, y)
        judge = J.Judge(whole=model, pitch=J._classifier(x[:, J.PITCH_COLUMNS], y),
                        rhythm=J._classifier(x[:, J.RHYTHM_COLUMNS], y), half=model, scaler=None,
                        neighbours=None, threshold=np.inf)
        return judge.between(jazz, folk)["whole"]["crossing_t"]

    assert crossing(0.3) == pytest.approx(0.5, abs=0.03)
    assert crossing(3.0) < 0.45


def test_splices_and_hybrids_by_hand():
    a = Melody(notes=tuple(Note(60 + i, float(i), 1.0) for i in range(16)))
    b = Melody(notes=tuple(Note(72, 2.0 * i, 0.5) for i in range(8)))
    s = J.splice(a, b)
    assert [n.pitch for n in s.notes] == list(range(60, 68)) + [72] * 4
    assert [n.onset for n in s.notes][-4:] == [8.0, 10.0, 12.0, 14.0]
    h = J.hybrid(a, b)
    assert [(n.pitch, n.onset, n.duration) for n in h.notes] == [(60 + i, 2.0 * i, 0.5) for i in range(8)]
    first, second = J.halves(a)
    assert len(first.notes) == len(second.notes) == 8 and second.notes[0].onset == 0.0


@pytest.mark.data
@pytest.mark.slow
def test_random_notes_are_neither(judge):
    rng = np.random.default_rng(1)
    mels = []
    for _ in range(100):
        onsets = np.cumsum(rng.choice([0.25, 1 / 3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0], size=20))
        notes = [Note(int(rng.integers(36, 96)), float(a), float(b - a)) for a, b in zip(onsets, onsets[1:])]
        mels.append(Melody(notes=tuple(notes)))
    labels = [v["label"] for v in judge.judge(mels)]
    assert labels.count("neither") >= 80


@pytest.mark.data
@pytest.mark.slow
def test_verdicts_carry_their_evidence(judge, windows):
    v = judge.judge(windows["jazz", "test"][:5])
    assert len(v) == 5
    for x in v:
        assert x["label"] in J.LABELS and 0 <= x["p_jazz"] <= 1 and x["ood"] >= 0
        assert x["threshold"] == judge.threshold
        assert set(x["opinions"]) == set(J.OPINIONS)


def test_labels_from_the_four_opinions_and_ood():
    t = 5.0
    assert J.label_of([0.9, 0.8, 0.7, 0.6], 1.0, t) == "jazz"
    assert J.label_of([0.1, 0.2, 0.3, 0.4], 1.0, t) == "folk"
    assert J.label_of([0.9, 0.2, 0.7, 0.6], 1.0, t) == "mixture"  # jazz pitches, folk rhythm
    assert J.label_of([0.9, 0.8, 0.7, 0.1], 1.0, t) == "mixture"  # a folk second half
    assert J.label_of([0.9, 0.8, np.nan, 0.7], 1.0, t) == "jazz"  # an empty half has no say
    assert J.label_of([0.9, 0.8, 0.7, 0.6], 6.0, t) == "neither"


def test_describe_needs_notes():
    with pytest.raises(ValueError, match="at least one note"):
        J.describe(Melody(notes=()))
    one = J.describe(Melody(notes=(Note(60, 0.0, 1.0),)))
    assert np.all(np.isfinite(one))
