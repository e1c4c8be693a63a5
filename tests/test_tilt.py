"""The exponential tilt toward the midpoint of the genres' statistics (fusion.model.tilt): the
target, the fit of Eq. (1) for a pool and for groups of candidates, the resampling rule, and
Blend's decoding with it."""
import numpy as np
import pytest
import torch

from fusion.melody import Melody
from fusion.model import tilt


def even(pitch_cycle, dur, beats=16):
    """A melody of equal notes of ``dur`` beats, cycling through ``pitch_cycle``."""
    n = int(beats / dur)
    return Melody.from_notes([(pitch_cycle[i % len(pitch_cycle)], i * dur, dur) for i in range(n)])


JAZZ = [even((61, 63, 66), 0.5)] * 20  # eighths on black keys
FOLK = [even((60, 62, 64), 1.0)] * 20  # quarters on white keys


def test_target_is_the_midpoint_and_each_genre_half_a_spread_from_it():
    t = tilt.Target.between(JAZZ, FOLK)
    assert set(t.names) == set(tilt.FEATURE_NAMES)
    dd = t.mid["dd"]
    assert dd.sum() == pytest.approx(1.0)
    assert dd[5] == pytest.approx(0.5) and dd[11] == pytest.approx(0.5)  # 6 ticks (eighth), 12 (quarter)
    for genre in (JAZZ, FOLK):
        gaps = t.gaps(tilt.count_matrices(genre))
        assert all(g == pytest.approx(0.5) for g in gaps.values())
    back = tilt.Target.from_dict(t.to_dict())
    assert np.allclose(back.mid["npd"], t.mid["npd"]) and back.spread == t.spread


def test_the_cramer_term_sees_where_the_bins_stand_and_the_euclidean_one_does_not():
    jazz, folk = [even((61,), 0.5)] * 10, [even((63,), 0.5)] * 10  # all C# / all Eb
    near, far = [even((62,), 0.5)] * 10, [even((71,), 0.5)] * 10  # D, between them; B, far off
    plain, cramer = tilt.Target.between(jazz, folk), tilt.Target.between(jazz, folk, cramer=True)
    assert plain.cramer == {} and set(cramer.cramer) == {"dd", "npd"}  # ordered bins only
    g_near, g_far = cramer.gaps(tilt.count_matrices(near)), cramer.gaps(tilt.count_matrices(far))
    assert g_near["npd"] == pytest.approx(g_far["npd"])  # Euclidean: both equally far
    assert g_near["npd_cramer"] == pytest.approx(0.5)  # as far as either genre: half a step off
    assert g_far["npd_cramer"] > 2.0  # eight steps beyond Eb
    assert cramer.gaps(tilt.count_matrices(jazz))["npd_cramer"] == pytest.approx(0.5)
    back = tilt.Target.from_dict(cramer.to_dict())
    assert set(back.cramer) == {"dd", "npd"} and back.cramer["npd"][1] == pytest.approx(cramer.cramer["npd"][1])
    # a pool of all four: with (1b) the tilt keeps the near melodies over the far ones
    rng = np.random.default_rng(0)
    kinds = [jazz[0], folk[0], near[0], far[0]]
    pool_ = [kinds[i] for i in rng.choice(4, size=400, p=[0.2, 0.2, 0.3, 0.3])]
    counts = tilt.count_matrices(pool_)
    is_near = np.array([m is near[0] for m in pool_])
    is_far = np.array([m is far[0] for m in pool_])
    share = {}
    for label, target in (("plain", plain), ("cramer", cramer)):
        fitted = tilt.fit(counts, target, group=400, min_ess=0.05)
        w = tilt.group_weights(torch.as_tensor(fitted.log_weights(counts)), 400).numpy()
        share[label] = w[is_near].sum() / max(w[is_far].sum(), 1e-12)
    assert share["plain"] == pytest.approx(1.0, rel=0.05)
    assert share["cramer"] > 1.5


def test_the_grid_term_sees_where_the_transitions_stand():
    """(1c) on IOI-class transitions: eighths -> eighths (jazz) and quarters -> quarters (folk);
    dotted eighths lie between them on the classes' axis, half notes beyond the quarters. The
    Euclidean term finds both equally far (disjoint cells); (1c) does not, and the tilt of a pool
    of both keeps more of the melodies in between."""
    jazz, folk = [even((60,), 0.5)] * 10, [even((60,), 1.0)] * 10
    near, far = [even((60,), 0.75)] * 10, [even((60,), 2.0)] * 10
    names = ("ioi_transition",)
    plain = tilt.Target.between(jazz, folk, names)
    grid = tilt.Target.between(jazz, folk, names, transitions=True)
    assert plain.grid == {} and set(grid.grid) == {"ioi_transition"} and grid.cramer == {}
    assert tilt.Target.between(jazz, folk, cramer=True).grid == {}  # only when asked for
    g_near, g_far = grid.gaps(tilt.count_matrices(near, names)), grid.gaps(tilt.count_matrices(far, names))
    assert g_near["ioi_transition"] == pytest.approx(g_far["ioi_transition"])
    assert grid.gaps(tilt.count_matrices(jazz, names))["ioi_transition_cramer"] == pytest.approx(0.5)
    assert grid.gaps(tilt.count_matrices(folk, names))["ioi_transition_cramer"] == pytest.approx(0.5)
    assert g_near["ioi_transition_cramer"] == pytest.approx(0.5)  # as far as either genre (W1 of a point mass)
    assert g_far["ioi_transition_cramer"] > 1.0
    back = tilt.Target.from_dict(grid.to_dict())
    assert back.grid["ioi_transition"][1] == pytest.approx(grid.grid["ioi_transition"][1])
    # a pool of only those two: (1)'s Euclidean term splits the counted transitions evenly between
    # them; with (1c) the tilt gives the ones in between the larger share
    rng = np.random.default_rng(1)
    pool_ = [(near[0], far[0])[i] for i in rng.choice(2, size=400)]
    counts = tilt.count_matrices(pool_, names)
    events = counts["ioi_transition"].sum(1)
    is_near = np.array([m is near[0] for m in pool_])
    share = {}
    for label, target in (("plain", plain), ("grid", grid)):
        fitted = tilt.fit(counts, target, group=400, min_ess=0.05)
        w = tilt.group_weights(torch.as_tensor(fitted.log_weights(counts)), 400).numpy() * events
        share[label] = w[is_near].sum() / w.sum()
    assert share["plain"] == pytest.approx(0.5, abs=0.02)
    assert share["grid"] > 0.6


def pool(n=400, seed=0):
    """A product-of-experts-like pool: mostly melodies in between (the shared eighths), some of
    each genre, in random order."""
    rng = np.random.default_rng(seed)
    kinds = [even((60, 62, 64), 0.5), even((61, 63, 66), 1.0), *JAZZ[:1], *FOLK[:1]]
    p = np.array([0.6, 0.2, 0.1, 0.1])
    return [kinds[i] for i in rng.choice(4, size=n, p=p)]


def test_fit_on_a_pool_moves_its_statistics_to_the_midpoint():
    target = tilt.Target.between(JAZZ, FOLK)
    counts = tilt.count_matrices(pool())
    fitted = tilt.fit(counts, target, group=400, min_ess=0.1)
    r = fitted.report
    assert r["ess_share"] >= 0.1
    assert sum(r["gaps_after"].values()) < 0.5 * sum(r["gaps_before"].values())
    w = tilt.group_weights(torch.as_tensor(fitted.log_weights(counts)), 400).numpy()
    assert w.sum() == pytest.approx(1.0)
    assert target.gaps(counts, w) == r["gaps_after"]


def test_a_stricter_effective_sample_size_keeps_more_melodies_and_moves_less():
    target = tilt.Target.between(JAZZ, FOLK)
    counts = tilt.count_matrices(pool())
    loose = tilt.fit(counts, target, group=400, min_ess=0.05)
    strict = tilt.fit(counts, target, group=400, min_ess=0.9)
    assert strict.report["ess_share"] >= loose.report["ess_share"]
    assert strict.report["rho"] >= loose.report["rho"]
    assert sum(strict.report["gaps_after"].values()) >= sum(loose.report["gaps_after"].values()) - 1e-9


def test_fit_for_groups_of_candidates_reports_held_out_gaps():
    target = tilt.Target.between(JAZZ, FOLK)
    fitted = tilt.fit(tilt.count_matrices(pool(seed=1)), target, group=8, min_ess=0.25,
                      held_out=tilt.count_matrices(pool(n=160, seed=2)))
    r = fitted.report
    assert r["group"] == 8 and r["held_out"] == 160
    assert sum(r["held_out_gaps_after"].values()) < sum(r["held_out_gaps_before"].values())
    with pytest.raises(ValueError, match="group"):
        tilt.fit(tilt.count_matrices(pool(n=5)), target, group=8)


def test_choose_draws_one_per_group_reproducibly_and_prefers_the_tilted():
    target = tilt.Target.between(JAZZ, FOLK)
    fitted = tilt.fit(tilt.count_matrices(pool()), target, group=400, min_ess=0.1)
    # groups of four: three shared-eighth melodies and one between-genre one (half eighths, half quarters)
    between = Melody.from_notes([(60 + (i % 3), i * 0.75, 0.5 if i % 2 else 1.0) for i in range(16)])
    groups = [even((60, 62, 64), 0.5)] * 3 + [between]
    cands = groups * 50
    a = fitted.choose(cands, 4, torch.Generator().manual_seed(3))
    b = fitted.choose(cands, 4, torch.Generator().manual_seed(3))
    assert a == b and len(a) == 50
    assert all(4 * g <= i < 4 * g + 4 for g, i in enumerate(a))
    with pytest.raises(ValueError, match="groups of 4"):
        fitted.choose(cands[:6], 4, torch.Generator())
    back = tilt.Tilt.from_dict(fitted.to_dict())
    assert back.choose(cands, 4, torch.Generator().manual_seed(3)) == a


def test_shipped_blend_samples_through_its_tilt():
    from fusion.model import systems

    if "blend" not in systems.available():
        pytest.skip("no blend checkpoint")
    s = systems.load_generator("blend")
    rule = s.config["sampling"]
    assert rule["candidates"] >= 2 and set(rule["tilt"]["lambda"]) == set(tilt.FEATURE_NAMES)
    one = s.sample(6, bars=4, seed=11)
    assert one == s.sample(6, bars=4, seed=11)
    assert all(m.span == 16 for m in one)
    report = rule["tilt"]["report"]
    assert sum(report["held_out_gaps_after"].values()) < sum(report["held_out_gaps_before"].values())


def test_fit_with_reward_raises_the_mean_reward_within_its_effective_sample_floor():
    target = tilt.Target.between(JAZZ, FOLK)
    mels = pool(n=800, seed=3)
    counts = tilt.count_matrices(mels)
    rng = np.random.default_rng(4)
    # a reward that prefers the quarter-note melodies, with noise: the tilt must raise its mean
    rewards = np.array([0.3 if m.notes[0].duration == 1.0 else 0.1 for m in mels]) + rng.normal(0, 0.05, len(mels))
    loose = tilt.fit_with_reward(counts, rewards, target, group=16, min_ess=0.25, total_min_ess=0.1)
    strict = tilt.fit_with_reward(counts, rewards, target, group=16, min_ess=0.25, total_min_ess=0.2)
    for fitted, floor in ((loose, 0.1), (strict, 0.2)):
        r = fitted.report
        assert fitted.beta == r["beta"] > 0
        assert r["ess_share"] >= floor
        assert r["reward_after"] > r["reward_before"]
        assert r["ess_share_stats"] >= 0.25
        assert list(r["betas_tried"])[0] == str(tilt.BETA_GRID[0])
    assert loose.beta >= strict.beta
    assert loose.report["reward_after"] >= strict.report["reward_after"] - 1e-9
    # the rule's weights are lambda . phi + beta R: without R it cannot be applied
    with pytest.raises(ValueError, match="reward"):
        loose.log_weights(counts)
    back = tilt.Tilt.from_dict(loose.to_dict())
    assert back.beta == loose.beta
    assert np.allclose(back.log_weights(counts, rewards), loose.log_weights(counts, rewards))
    picks = back.choose(mels[:160], 16, torch.Generator().manual_seed(0), rewards[:160])
    assert len(picks) == 10


def test_a_reward_the_floor_forbids_is_left_out():
    target = tilt.Target.between(JAZZ, FOLK)
    mels = pool(n=160, seed=5)
    rewards = np.random.default_rng(6).normal(0, 1.0, len(mels))
    rewards[::2] += 100.0  # one candidate in two far above the rest: any beta here rests on a few
    fitted = tilt.fit_with_reward(tilt.count_matrices(mels), rewards, target, group=16, total_min_ess=0.45,
                                  betas=(1.0, 2.0))
    assert fitted.beta == 0.0 and list(fitted.report["betas_tried"]) == ["1.0"]
    assert fitted.report["betas_tried"]["1.0"] < 0.45


def test_shipped_blend_keeps_the_candidates_its_critics_find_more_fused():
    """Blend's decoding weighs its own reward critics: the melodies it keeps earn a higher mean
    blend reward than the same generator's melodies drawn without the rule."""
    import copy

    from fusion.model import systems

    if "blend" not in systems.available():
        pytest.skip("no blend checkpoint")
    s = systems.load_generator("blend")
    if not s.config["sampling"]["tilt"].get("beta"):
        pytest.skip("this Blend's decoding does not weigh the reward")
    assert s.reward is not None
    plain = copy.copy(s)
    plain.config = {**s.config, "sampling": {}}
    vocab = s.vocab

    def mean_reward(mels):
        rows = [vocab.encode(m, total_beats=m.span, bos_eos=True) for m in mels]
        L = max(map(len, rows))
        seq = torch.tensor([r + [vocab.pad_id] * (L - len(r)) for r in rows])
        return float(s.reward(seq).mean())

    kept, drawn = s.sample(48, bars=4, seed=21), plain.sample(48, bars=4, seed=21)
    assert mean_reward(kept) > mean_reward(drawn)


def test_cross_validated_rho_keeps_min_ess_and_is_the_least_held_out_loss():
    target = tilt.Target.between(JAZZ, FOLK)
    counts = tilt.count_matrices(pool(n=640, seed=3))
    plain = tilt.fit(counts, target, group=16, min_ess=0.25)
    cv = tilt.fit(counts, target, group=16, min_ess=0.25, cv=True)
    losses = cv.report["rho_cv_loss"]
    assert "rho_cv_loss" not in plain.report
    assert cv.report["ess_share"] >= 0.25
    # only rho that keep min_ess are cross-validated, the smallest of them first (the min_ess rule's pick)
    assert float(min(losses, key=float)) == plain.report["rho"]
    assert losses[str(cv.report["rho"])] == min(losses.values())
    assert sum(cv.report["gaps_after"].values()) < sum(cv.report["gaps_before"].values())


def test_fit_with_reward_reports_the_cross_validated_rho():
    target = tilt.Target.between(JAZZ, FOLK)
    counts = tilt.count_matrices(pool(n=640, seed=3))
    rewards = np.random.default_rng(0).normal(size=640)
    fitted = tilt.fit_with_reward(counts, rewards, target, 16, cv=True)
    assert str(fitted.report["rho"]) in fitted.report["rho_cv_loss"]
    assert "rho_cv_loss" not in tilt.fit_with_reward(counts, rewards, target, 16).report


def test_the_rest_lengths_join_the_target_with_their_cramer_term():
    """genre_midpoint(rests=True)'s names: the rests between notes are an ordered feature like DD."""
    jazz = [Melody.from_notes([(60, 0.0, 1.0), (62, 4.0, 1.0), (64, 5.0, 1.0)])] * 5  # three beats of rest
    folk = [Melody.from_notes([(60, 0.0, 1.0), (62, 1.5, 1.0), (64, 2.5, 1.0)])] * 5  # half a beat of rest
    t = tilt.Target.between(jazz, folk, tilt.FEATURE_NAMES + (tilt.REST_FEATURE,), cramer=True)
    assert set(t.cramer) == {"dd", "npd", "rest"}
    assert t.mid["rest"][35] == pytest.approx(0.5) and t.mid["rest"][5] == pytest.approx(0.5)
    between = [Melody.from_notes([(60, 0.0, 1.0), (62, 2.5, 1.0), (64, 3.5, 1.0)])] * 5  # a beat and a half
    gaps = t.gaps(tilt.count_matrices(between, t.names))
    assert gaps["rest_cramer"] == pytest.approx(0.5) and gaps["rest"] > 0.5


def test_a_per_note_tilt_reads_the_shape_of_a_melody_not_how_many_notes_it_has():
    """(T1d): with ``per_note`` a melody and the same melody twice as long (the same histograms,
    twice the counts) get the same log-weight; on counts they do not. Kept through to_dict."""
    target = tilt.Target.between(JAZZ, FOLK)
    counts = tilt.count_matrices(pool())
    fitted = tilt.fit(counts, target, group=400, min_ess=0.1, per_note=True)
    plain = tilt.fit(counts, target, group=400, min_ess=0.1)
    assert fitted.per_note and not plain.per_note
    short, long = even((62,), 0.5, beats=8), even((62,), 0.5, beats=16)  # one note, 16 or 32 times
    c = tilt.count_matrices([short, long])
    w_note, w_count = fitted.log_weights(c), plain.log_weights(c)
    assert w_note[0] == pytest.approx(w_note[1])
    assert abs(w_count[1]) > 1.8 * abs(w_count[0]) > 0  # about twice the counts, about twice the log-weight
    back = tilt.Tilt.from_dict(fitted.to_dict())
    assert back.per_note and np.allclose(back.log_weights(c), w_note)
    # it still moves the pool toward the midpoint, as the count tilt does
    before = target.gaps(counts)["dd"]
    assert fitted.report["gaps_after"]["dd"] < before


def test_the_melodic_intervals_join_the_target_with_their_cramer_term():
    """genre_midpoint(intervals=True)'s names: the intervals (-12..+12 semitones) are ordered bins,
    so they get (1b); a melody of the other genre's steps is 0.5 from the midpoint."""
    up2 = [even((60, 62, 64, 66), 0.5)] * 5  # whole-tone steps up, then a fall of 6
    up1 = [even((60, 61, 62, 63), 0.5)] * 5  # semitone steps up, then a fall of 3
    names = tilt.FEATURE_NAMES + (tilt.INTERVAL_FEATURE,)
    t = tilt.Target.between(up2, up1, names, cramer=True)
    assert set(t.cramer) == {"dd", "npd", "interval"}
    assert t.mid["interval"][12 + 2] > 0 and t.mid["interval"][12 + 1] > 0
    gaps = t.gaps(tilt.count_matrices(up1, t.names))
    assert gaps["interval"] == pytest.approx(0.5) and gaps["interval_cramer"] == pytest.approx(0.5)
    assert t.gaps(tilt.count_matrices(up1 + up2, t.names))["interval"] < 0.05


def test_the_gap_floor_stops_a_reward_that_pulls_the_statistics_off_the_midpoint():
    """``gap_keep``: beta stops before the reward takes back more than half of what the
    statistics' tilt alone took off the summed gaps (docs/method.md, "A floor on the rule's
    statistics"); without it a reward for the pure-jazz melodies undoes the tilt, once rho is too
    large for lambda to hold the statistics against it (as cross-validation may choose)."""
    target = tilt.Target.between(JAZZ, FOLK)
    mels = pool(n=800, seed=7)
    counts = tilt.count_matrices(mels)
    rng = np.random.default_rng(8)
    rewards = np.array([1.0 if m is JAZZ[0] else 0.0 for m in mels]) + rng.normal(0, 0.1, len(mels))
    free = tilt.fit_with_reward(counts, rewards, target, group=16, total_min_ess=0.05, rho_grid=(0.1,))
    kept = tilt.fit_with_reward(counts, rewards, target, group=16, total_min_ess=0.05, rho_grid=(0.1,), gap_keep=0.5)
    r = kept.report
    summed = sum(r["gaps_after"].values())
    assert "gap_limit" not in free.report and r["gap_keep"] == 0.5
    # the free rule ends farther from the midpoint than the candidates themselves
    assert sum(free.report["gaps_after"].values()) > sum(r["gaps_before"].values()) > r["gap_limit"]
    assert summed <= r["gap_limit"] + 1e-9
    assert 0 < kept.beta < free.beta
    assert r["reward_after"] > r["reward_before"]
    assert r["gaps_tried"][str(r["beta_sd"])] == pytest.approx(summed, abs=1e-4)


def test_rho_chosen_on_the_held_out_melodies_is_the_least_held_out_loss():
    """``rho_on_held_out``: rho is the one among those keeping min_ess whose lambda, fitted on
    all the fitting groups, leaves the least loss (1) on the held-out melodies (docs/method.md,
    "Choosing rho on the held-out candidates")."""
    target = tilt.Target.between(JAZZ, FOLK, cramer=True)
    mels = pool(n=1280, seed=9)
    fit_c, ho_c = tilt.count_matrices(mels[:640]), tilt.count_matrices(mels[640:])
    chosen = tilt.fit(fit_c, target, group=16, min_ess=0.25, held_out=ho_c, rho_on_held_out=True)
    losses = chosen.report["rho_held_out_loss"]
    assert "rho_cv_loss" not in chosen.report and chosen.report["ess_share"] >= 0.25
    assert losses[str(chosen.report["rho"])] == min(losses.values())
    assert len(losses) >= 2 and len(set(losses.values())) > 1  # every rho that keeps min_ess, each measured
    # the smallest rho that keeps min_ess is the first one measured (the min_ess rule's own pick)
    assert float(min(losses, key=float)) == tilt.fit(fit_c, target, group=16, min_ess=0.25).report["rho"]
    with pytest.raises(ValueError, match="held-out"):
        tilt.fit(fit_c, target, group=16, rho_on_held_out=True)
    rewards = np.random.default_rng(1).normal(size=1280)
    both = tilt.fit_with_reward(fit_c, rewards[:640], target, 16, held_out=ho_c, held_out_rewards=rewards[640:],
                                rho_on_held_out=True)
    assert both.report["rho_held_out_loss"] == losses and both.report["rho"] == chosen.report["rho"]
