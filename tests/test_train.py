"""The whole training pipeline on a tiny slice of the real data (the ``smoke`` preset): every
system trained, exported, loaded and sampled; resumable; logged; seeded."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from fusion import cli
from fusion.model import blend, systems, train
from fusion.render import midi
from fusion.model.grammar import Grammar
from fusion.model.presets import PRESETS


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, wjazzd_dir, essen_dir):
    root = tmp_path_factory.mktemp("smoke")
    args = ["train", "--preset", "smoke", "--run-dir", str(root / "run"), "--out", str(root / "ckpt"),
            "--reports", str(root / "reports"), "--quiet"]
    assert cli.main(args) == 0
    return root, args


@pytest.mark.data
@pytest.mark.slow
def test_every_system_is_exported_and_generates(smoke_run):
    root, _ = smoke_run
    assert systems.available(root / "ckpt") == list(systems.SYSTEMS)
    for name in systems.SYSTEMS:
        folder = root / "ckpt" / name
        card = (folder / "README.md").read_text()
        for fact in ("preset | `smoke`", "commit", "Token data SHA-256", "parameters", "jazz |", "folk |"):
            assert fact in card, (name, fact)
        s = systems.load_generator(name, root / "ckpt")
        mels = s.sample(3, bars=2, seed=1)
        assert len(mels) == 3 and all(m.notes for m in mels)
        assert all(max(n.end for n in m.notes) <= 8 + 1e-9 for m in mels)
        assert mels == s.sample(3, bars=2, seed=1)  # seeded


@pytest.mark.data
@pytest.mark.slow
def test_hybrid_carries_a_decoding_rule_fitted_on_joins_toward_the_midpoint_with_the_intervals(smoke_run):
    """The ``hybrid_decoding`` stage (docs/method.md, "Hybrid's decoding rule"): a tilt without the
    reward, over the midpoint's terms and the melodic intervals, fitted on groups of the preset's k
    joins and checked on as many held out; the card says so and sampling goes through it."""
    root, _ = smoke_run
    cfg = json.loads((root / "ckpt" / "hybrid" / "config.json").read_text())
    rule = cfg["sampling"]
    k = PRESETS["smoke"].hybrid_candidates
    assert rule["combine"] == "hybrid" and rule["candidates"] == k == rule["tilt"]["group"]
    assert not rule["tilt"].get("beta") and "reward" not in rule
    assert "interval" in rule["tilt"]["lambda"] and "interval" in rule["target"]["mid"]
    rep = rule["tilt"]["report"]
    assert rep["melodies"] % k == 0 and rep["held_out"] == rep["melodies"]
    assert set(rep["held_out_gaps_after"]) == set(rep["gaps_before"])
    card = (root / "ckpt" / "hybrid" / "README.md").read_text()
    assert f"one of {k} such joins" in card and "hybrid_decoding" in card
    log = [json.loads(line) for line in (root / "run" / "log.jsonl").read_text().splitlines()]
    assert any(r.get("stage") == "hybrid_decoding" and r.get("phase") == "decoding_tilt" for r in log)
    mels = systems.load_generator("hybrid", root / "ckpt").sample(6, bars=2, seed=3)
    assert [m.extra["rhythm"] for m in mels] == ["folk", "jazz"] * 3


@pytest.mark.data
@pytest.mark.slow
def test_lstm_checkpoints_hold_weights_config_and_likelihood(smoke_run):
    root, _ = smoke_run
    cfg = json.loads((root / "ckpt" / "fusion" / "config.json").read_text())
    assert cfg["kind"] == "lstm" and cfg["members"] == 1
    assert set(cfg["validation_nll"]) == {"jazz val", "folk val"}
    assert cfg["training"]["data"]["jazz"]["windows"]["train"] == 64
    assert cfg["training"]["command"].startswith("python -m fusion train --preset smoke")
    assert json.loads((root / "ckpt" / "rl" / "config.json").read_text())["members"] == 2
    assert (root / "ckpt" / "mc" / "distribution.json").exists()


@pytest.mark.data
@pytest.mark.slow
def test_log_has_every_stage_and_the_curves_are_written(smoke_run):
    root, _ = smoke_run
    log = [json.loads(x) for x in (root / "run" / "log.jsonl").read_text().splitlines()]
    done = [r["stage"] for r in log if r.get("event") == "done"]
    assert done == list(train.STAGES)
    critics = {r["critic"] for r in log if "critic" in r and "w" in r}
    assert {"D_A", "D_B", "D_F", "D_GAN", "D_RL_A", "D_RL_B"} <= critics
    html = (root / "reports" / "training_smoke.html").read_text()
    assert "plotly.min.js" in html and (root / "reports" / "plotly.min.js").exists()


@pytest.mark.data
@pytest.mark.slow
def test_resume_skips_finished_stages(smoke_run, capsys):
    root, args = smoke_run
    before = (root / "run" / "log.jsonl").read_text().count("\n")
    assert cli.main(args) == 0
    err = capsys.readouterr().err
    assert "done already" in err
    after = (root / "run" / "log.jsonl").read_text().count("\n")
    assert after == before  # no stage ran again


@pytest.mark.data
@pytest.mark.slow
def test_a_different_preset_does_not_resume_a_run(smoke_run):
    root, _ = smoke_run
    import dataclasses
    other = dataclasses.replace(PRESETS["smoke"], seed=7)
    with pytest.raises(ValueError, match="different preset"):
        train.Trainer(other, root / "run", progress=False)


@pytest.mark.data
@pytest.mark.slow
def test_a_setting_added_after_the_run_reads_as_its_default(smoke_run, tmp_path):
    """A state written before ``whole_windows`` existed resumes under the preset that has it at its
    default (the old behaviour), and is refused where the new setting is on."""
    import dataclasses
    import shutil

    root, _ = smoke_run
    old = tmp_path / "run"
    shutil.copytree(root / "run", old)
    state = torch.load(old / "state.pt", map_location="cpu", weights_only=False)
    del state["preset"]["whole_windows"]
    torch.save(state, old / "state.pt")
    assert train.Trainer(PRESETS["smoke"], old, progress=False).done == state["done"]
    with pytest.raises(ValueError, match="different preset"):
        train.Trainer(dataclasses.replace(PRESETS["smoke"], whole_windows=True), old, progress=False)


@pytest.mark.data
@pytest.mark.slow
def test_seed_study_trains_seeds_in_parallel_and_reports_their_spread(smoke_run, tmp_path):
    """``python -m fusion seeds --jobs 2``: seeds 1 and 2 re-run blend and fusion from the smoke
    run's snapshot in two processes; the same seed trained in this process gives the same weights;
    seeds.csv/md hold every seed of both systems."""
    import pandas as pd
    from safetensors.torch import load_file

    from fusion.evaluation import seeds

    root, _ = smoke_run
    out = tmp_path / "reports"
    args = ["seeds", "--preset", "smoke", "--base", str(root / "run"), "--checkpoints", str(root / "ckpt"),
            "--seeds", "1", "2", "--jobs", "2", "--samples", "24", "--bootstrap", "20", "--quick", "--out", str(out),
            "--quiet"]
    assert cli.main(args) == 0
    df = pd.read_csv(out / "seeds.csv")
    assert sorted(df.seed.unique()) == [0, 1, 2] and set(df.system) == {"fusion", "blend"}
    assert df["mixture %"].between(0, 100).all()
    md = (out / "seeds.md").read_text()
    assert "## blend" in md and "## fusion" in md and "--jobs 2" in md
    assert set(df.commit) == {df.commit[0]} and df.command.str.contains("--jobs 2").all()
    weights = {k: load_file(root / f"run-seed{k}" / "checkpoints" / "blend" / "weights.safetensors") for k in (1, 2)}
    assert any(not torch.equal(weights[1][n], weights[2][n]) for n in weights[1])  # the seeds differ
    shutil.rmtree(root / "run-seed1")  # the same seed again, from scratch, in this process
    again = seeds.train_seeds([1], root / "run", "smoke", progress=False, command="test")
    same = load_file(Path(again[1]) / "blend" / "weights.safetensors")
    assert all(torch.equal(same[n], weights[1][n]) for n in same)  # a worker process trains as this one does


@pytest.mark.data
@pytest.mark.slow
def test_seed_study_of_one_system_keeps_the_other_systems_rows(smoke_run, tmp_path):
    """``seeds --systems blend`` re-trains and evaluates Blend only; Fusion's rows of an earlier
    seeds.csv (one written before the provenance columns existed) stay, with their command and
    commit from the earlier seeds.md."""
    import pandas as pd

    root, _ = smoke_run
    out = tmp_path / "reports"
    out.mkdir()
    old = pd.DataFrame([{"system": s, "seed": k, "mixture %": 10.0 + k} for s in ("fusion", "blend") for k in (0, 1)])
    old.to_csv(out / "seeds.csv", index=False)
    (out / "seeds.md").write_text("Made by `python -m fusion seeds --threads 1` at commit `8a48f03`.\n")
    args = ["seeds", "--preset", "smoke", "--base", str(root / "run"), "--checkpoints", str(root / "ckpt"),
            "--seeds", "3", "--systems", "blend", "--samples", "16", "--bootstrap", "10", "--quick", "--out", str(out),
            "--quiet"]
    assert cli.main(args) == 0
    df = pd.read_csv(out / "seeds.csv")
    fusion = df[df.system == "fusion"]
    assert fusion.seed.tolist() == [0, 1] and set(fusion.commit) == {"8a48f03"}
    assert sorted(df[df.system == "blend"].seed) == [0, 3] and not (root / "run-seed3" / "checkpoints" / "fusion").exists()
    md = (out / "seeds.md").read_text()
    assert "`python -m fusion seeds --threads 1` at commit `8a48f03`" in md and "--systems blend" in md
    # measures added after Fusion's rows were written say so; Blend's new rows have them
    fusion_md, blend_md = md.split("## blend")
    assert "| NPD EM Balance | not measured in this study |" in fusion_md
    assert "| NPD EM Balance | not measured" not in blend_md and "| IOI-transition EM Ratio | " in blend_md
    assert "| interval EM Ratio | " in blend_md and "| pc-transition EUD Ratio | " in blend_md  # all six sequential


@pytest.mark.data
@pytest.mark.slow
def test_seed_study_of_hybrid_retrains_its_members_from_scratch(smoke_run, tmp_path):
    """``seeds --systems hybrid`` (docs/method.md, "Hybrid over three seeds") needs no snapshot:
    each seed re-runs every stage Hybrid is made of with that seed, its members' pre-training
    included, so its members differ from seed 0's; the study evaluates seed 0 and the new seed."""
    import pandas as pd
    from safetensors.torch import load_file

    root, _ = smoke_run
    out, base = tmp_path / "reports", tmp_path / "nothing"  # no before_fusion.pt anywhere
    args = ["seeds", "--preset", "smoke", "--base", str(base), "--checkpoints", str(root / "ckpt"), "--seeds", "1",
            "--systems", "hybrid", "--samples", "16", "--bootstrap", "10", "--quick", "--out", str(out), "--quiet"]
    assert cli.main(args) == 0
    df = pd.read_csv(out / "seeds.csv")
    assert set(df.system) == {"hybrid"} and sorted(df.seed) == [0, 1]
    assert "## hybrid" in (out / "seeds.md").read_text()
    scratch = tmp_path / "nothing-seed1-scratch"
    log = [json.loads(line) for line in (scratch / "log.jsonl").read_text().splitlines()]
    assert {"mle_jazz", "adv_folk", "hybrid_decoding"} <= {r["stage"] for r in log if r.get("event") == "done"}
    folder = tmp_path / "nothing-seed1" / "checkpoints" / "hybrid"
    card = json.loads((folder / "config.json").read_text())
    assert card["training"]["preset"]["seed"] == 1 and "tilt" in card["sampling"]
    new, old = load_file(folder / "weights.safetensors"), load_file(root / "ckpt" / "hybrid" / "weights.safetensors")
    assert set(new) == set(old) and any(not torch.equal(new[n], old[n]) for n in new)  # its own members
    assert not (tmp_path / "nothing-seed1" / "checkpoints" / "blend").exists()


def test_seed_study_refuses_a_base_without_snapshot(tmp_path, capsys):
    assert cli.main(["seeds", "--base", str(tmp_path / "nothing"), "--seeds", "1", "--quiet"]) == 1
    assert "before_fusion.pt" in capsys.readouterr().err
    from fusion.evaluation import seeds

    with pytest.raises(ValueError, match="jobs"):
        seeds.train_seeds([1], tmp_path, jobs=0)


def test_subset_of_systems_runs_only_their_stages():
    assert train.stages_for(["rm"]) == ["baselines"]
    assert train.stages_for(["mle"]) == ["mle_fusion"]
    assert train.stages_for(["rl"]) == ["mle_jazz", "mle_folk", "adv_jazz", "adv_folk", "rl"]
    assert train.stages_for(["fusion"])[-1] == "fusion"


@pytest.mark.data
@pytest.mark.slow
def test_generate_command_writes_midi_files(smoke_run, tmp_path):
    root, _ = smoke_run
    out = tmp_path / "gen"
    r = subprocess.run([sys.executable, "-m", "fusion", "generate", "--system", "fusion", "--n", "3", "--bars", "2",
                        "--seed", "4", "--out", str(out), "--checkpoints", str(root / "ckpt")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    files = sorted(out.glob("*.mid"))
    assert len(files) == 3
    for f in files:
        assert midi.midi_to_melody(f).notes
    bad = subprocess.run([sys.executable, "-m", "fusion", "generate", "--system", "fusion", "--n", "0",
                          "--out", str(out), "--checkpoints", str(root / "ckpt")],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "--n must be" in bad.stderr


@pytest.mark.data
@pytest.mark.slow
def test_same_seed_same_training(tmp_path, wjazzd_dir, essen_dir):
    """Two runs of a stage with the same seed give the same weights."""
    preset = PRESETS["smoke"]
    a = train.Trainer(preset, tmp_path / "a", systems=["mle"], progress=False)
    a.run()
    b = train.Trainer(preset, tmp_path / "b", systems=["mle"], progress=False, data=a.data)
    b.run()
    for (k, x), (_, y) in zip(a.modules["G_F"].state_dict().items(), b.modules["G_F"].state_dict().items()):
        assert torch.equal(x, y), k


class PitchCounter(torch.nn.Module):
    """A hand-made critic: the share of a melody's tokens that are PITCH_72 (C5)."""

    def __init__(self, token):
        super().__init__()
        self.token = token

    def forward(self, seq):
        return (seq == self.token).float().sum(1) / (seq != 0).float().sum(1)


@pytest.fixture(scope="module")
def smoke_trainer(tmp_path_factory, wjazzd_dir, essen_dir):
    t = train.Trainer(PRESETS["smoke"], tmp_path_factory.mktemp("t"), systems=["mle"], progress=False)
    t.run()
    return t


@pytest.mark.data
@pytest.mark.slow
def test_policy_gradient_steps_follow_the_critic(smoke_trainer):
    """With batched rollouts and all: generators learn what a critic rewards."""
    t = smoke_trainer
    torch.manual_seed(0)
    g = t.modules["G_F"]
    token = t.vocab.pitch_id(72)
    critic = PitchCounter(token)

    def share():
        s = sample_tokens(g, t, 200)
        return float((s == token).sum() / (s != 0).sum())

    before = share()
    net = train.rollout.make_rollout_net(g)
    opt = torch.optim.Adam(g.parameters(), lr=1e-2)
    for _ in range(40):
        t.pg_step(g, net, opt, [(critic, 1.0)])
    assert share() > 2 * before


def sample_tokens(g, t, n):
    return train.sample([g], [1.0], n, t.ticks, t.grammar, generator=torch.Generator().manual_seed(9))


@pytest.mark.data
@pytest.mark.slow
def test_critic_updates_raise_their_objective(smoke_trainer):
    """Eighty critic steps on fixed batches raise what the critics maximise, Eq. 8 minus Eq. 9 and
    Eq. 11 minus Eq. 13 (a 1-Lipschitz critic's estimates are small: windows of the two genres
    differ by little in one-hot terms)."""
    t = smoke_trainer
    torch.manual_seed(0)
    g = t.modules["G_F"]
    fake = train.sample([g], [1.0], 48, t.ticks, t.grammar, generator=torch.Generator().manual_seed(3))
    real = {"xa": t.data.batch("jazz", 16, t.rng), "xb": t.data.batch("folk", 16, t.rng)}
    # Eq. 8: the sources (here real windows stand in for G_A, G_B) against G_F's samples;
    # Eq. 11: real jazz against real folk and generated melodies
    cases = [(train.losses.eq8_fusion_critic, train.losses.eq9_fusion_balance, ["xa", "xb", "ga", "gb"], ["gf"],
              {**real, "ga": t.data.batch("jazz", 16, t.rng), "gb": t.data.batch("folk", 16, t.rng), "gf": fake[32:]}),
             (lambda d: train.losses.eq11_source_critic(d, "xa"),
              lambda d: train.losses.eq13_source_balance(d, "xa"), ["xa"], ["xb", "ga", "gb", "gf"],
              {**real, "ga": fake[:16], "gb": fake[16:32], "gf": fake[32:]})]
    for objective, balance, pos, neg, batches in cases:
        critic = t.new_critic()
        opt = torch.optim.Adam(critic.parameters(), lr=3e-3)

        def value():  # what the critic maximises, its balance penalty included (Eq. 8 - 9, Eq. 11 - 13)
            critic.eval()
            with torch.no_grad():
                d = {k: critic(v) for k, v in batches.items()}
                return (objective(d) - t.preset.balance_beta * balance(d)).item()

        before = value()
        for _ in range(80):
            t.critic_update(critic, opt, batches, objective, balance, positive=pos, negative=neg, real=["xa", "xb"])
        assert value() > before + 0.02


@pytest.mark.data
@pytest.mark.slow
def test_blend_carries_the_equal_evidence_generators(smoke_run):
    """Blend's reward gains the genre generators' equal-evidence acceptances (``blend_evidence``):
    in training (its round reports), in its decoding rule and in its checkpoint, which loads them
    back and samples with them."""
    from safetensors.torch import load_file

    root, _ = smoke_run
    folder = root / "ckpt" / "blend"
    config = json.loads((folder / "config.json").read_text())
    ev = config["sampling"]["reward"]["evidence"]
    assert set(ev["mid"]) == {"whole", "pitch", "rhythm", "first", "second"} and all(h > 0 for h in ev["half"].values())
    assert config["training"]["preset"]["blend_evidence"] is True
    report = config["sampling"]["tilt"]["report"]
    assert report["rho_held_out_loss"]  # rho on the held-out candidates (blend_decoding_rho_held_out)
    assert report["rho_held_out_loss"][str(report["rho"])] == min(report["rho_held_out_loss"].values())
    card = (folder / "README.md").read_text()
    assert "least loss (1) on as many held-out" in card and "giving back more than 50%" in card
    assert all("j_whole" in r and "f_second" in r for r in config["rounds"]["blend"])
    weights = load_file(folder / "weights.safetensors")
    assert any(k.startswith("reward.evidence.G_A.") for k in weights)
    s = systems.load_generator("blend", root / "ckpt")
    assert s.reward.evidence is not None
    rows = [s.vocab.encode(m, total_beats=8, bos_eos=True) for m in s.sample(3, bars=2, seed=3)]
    seq = torch.tensor([r + [s.vocab.pad_id] * (max(map(len, rows)) - len(r)) for r in rows])
    r = s.reward
    parts = blend.reward_parts(r.critic_a, r.critic_b, r.calibration, seq, r.grammar, r.stats, r.evidence)
    assert bool(((parts["j_whole"] >= 0) & (parts["j_whole"] <= 1)).all())
    assert torch.allclose(parts["j_whole"] + parts["f_whole"], torch.ones(3))
    assert torch.allclose(parts["R"], r(seq))


@pytest.mark.data
@pytest.mark.slow
def test_redoing_blends_decoding_keeps_the_blend_generator_of_the_last_redo(smoke_run, tmp_path):
    """A redo from a stage before ``blend`` retakes the snapshot while the older G_BLEND is still
    in the state; redoing ``blend_decoding`` afterwards must keep the G_BLEND trained by the
    redo, not bring the snapshot's older one back."""
    import dataclasses

    root, _ = smoke_run
    run = tmp_path / "run"
    shutil.copytree(root / "run", run)
    first = train.Trainer(PRESETS["smoke"], run, systems=["blend"], progress=False).modules["G_BLEND"].state_dict()
    other = dataclasses.replace(PRESETS["smoke"], blend_lr=3e-3)  # read by blend only: a different G_BLEND
    t = train.Trainer(other, run, systems=["blend"], progress=False, redo=["poe"])
    t.run()
    trained = {k: v.clone() for k, v in t.modules["G_BLEND"].state_dict().items()}
    assert any(not torch.equal(trained[k], first[k]) for k in trained)
    again = train.Trainer(other, run, systems=["blend"], progress=False, redo=["blend_decoding"])
    assert all(torch.equal(again.modules["G_BLEND"].state_dict()[k], v) for k, v in trained.items())
    again.run()
    assert all(torch.equal(again.modules["G_BLEND"].state_dict()[k], v) for k, v in trained.items())


@pytest.mark.data
@pytest.mark.slow
def test_blends_teacher_is_tilted_toward_the_rest_lengths_midpoint_only_when_asked(smoke_run, tmp_path):
    """``blend_teacher_rests``: the teacher's tilt takes the rest lengths between notes as a fifth
    feature (its report measures their gap from the midpoint); without it the teacher is tilted
    on the four features alone, and the teacher's weights, hence G_BLEND, differ."""
    import dataclasses

    root, _ = smoke_run
    run = tmp_path / "run"
    shutil.copytree(root / "run", run)
    plain = train.Trainer(PRESETS["smoke"], run, systems=["blend"], progress=False)
    assert "rest" not in plain.extra["blend_teacher_tilt"]["gaps_before"]
    before = {k: v.clone() for k, v in plain.modules["G_BLEND"].state_dict().items()}
    rests = dataclasses.replace(PRESETS["smoke"], blend_teacher_rests=True)
    t = train.Trainer(rests, run, systems=["blend"], progress=False, redo=["blend"])
    t.run()
    report = t.extra["blend_teacher_tilt"]
    assert set(report["gaps_before"]) == {"dd", "npd", "ioi_transition", "pc_transition", "rest"}
    assert set(report["gaps_after"]) == set(report["gaps_before"])
    after = t.modules["G_BLEND"].state_dict()
    assert any(not torch.equal(after[k], before[k]) for k in after)


@pytest.mark.data
@pytest.mark.slow
def test_blends_decoding_reads_its_own_candidates_and_floors_and_leaves_the_teacher_alone(smoke_run, tmp_path):
    """``blend_candidates`` and the decoding floors (``blend_decoding_stats_min_ess``,
    ``blend_decoding_min_ess``) are read by ``blend_decoding`` alone: a preset that changes them
    resumes the run, redoes only the decoding, keeps G_BLEND, and fits the rule for groups of the
    new k with at least the new floor of effective candidates (docs/method.md, "More candidates
    per melody")."""
    import dataclasses

    root, _ = smoke_run
    run = tmp_path / "run"
    shutil.copytree(root / "run", run)
    before = train.Trainer(PRESETS["smoke"], run, systems=["blend"], progress=False)
    g_blend = {k: v.clone() for k, v in before.modules["G_BLEND"].state_dict().items()}
    wide = dataclasses.replace(PRESETS["smoke"], blend_candidates=8, blend_decoding_stats_min_ess=0.5,
                               blend_decoding_min_ess=0.25)
    assert wide.stages_reading("blend_decoding_stats_min_ess") == ("blend_decoding", "hybrid_decoding")
    assert wide.stages_reading("blend_decoding_min_ess") == ("blend_decoding",)
    t = train.Trainer(wide, run, systems=["blend"], progress=False, redo=["blend_decoding"])
    t.run()
    rule = t.extra["blend_tilt"]["tilt"]
    assert rule["group"] == 8 and rule["report"]["group"] == 8
    assert rule["report"]["ess_share_stats"] >= 0.5
    assert rule["report"]["ess_share"] >= 0.25
    assert all(torch.equal(t.modules["G_BLEND"].state_dict()[k], v) for k, v in g_blend.items())


@pytest.mark.data
@pytest.mark.slow
def test_blends_teacher_matches_where_the_rhythm_transitions_stand_only_when_asked(smoke_run, tmp_path):
    """``blend_teacher_transitions``: the teacher's tilt takes the two-dimensional Cramer term (1c)
    of the IOI-class transitions (its report measures that gap), and the teacher's weights, hence
    G_BLEND, differ from the plain teacher's."""
    import dataclasses

    root, _ = smoke_run
    run = tmp_path / "run"
    shutil.copytree(root / "run", run)
    plain = train.Trainer(PRESETS["smoke"], run, systems=["blend"], progress=False)
    assert "ioi_transition_cramer" not in plain.extra["blend_teacher_tilt"]["gaps_before"]
    before = {k: v.clone() for k, v in plain.modules["G_BLEND"].state_dict().items()}
    grid = dataclasses.replace(PRESETS["smoke"], blend_teacher_transitions=True)
    t = train.Trainer(grid, run, systems=["blend"], progress=False, redo=["blend"])
    t.run()
    report = t.extra["blend_teacher_tilt"]
    assert "ioi_transition_cramer" in report["gaps_before"] and "ioi_transition_cramer" in report["gaps_after"]
    after = t.modules["G_BLEND"].state_dict()
    assert any(not torch.equal(after[k], before[k]) for k in after)


@pytest.mark.data
@pytest.mark.slow
def test_blends_decoding_matches_the_melodic_intervals_only_when_asked(smoke_run, tmp_path):
    """``blend_decoding_intervals``: the decoding rule takes the melodic intervals as a fifth
    feature, with their Cramer term (1b) (docs/method.md, "Melodic intervals in the rule"); the
    redo touches the decoding alone and leaves G_BLEND as it was."""
    import dataclasses

    root, _ = smoke_run
    run = tmp_path / "run"
    shutil.copytree(root / "run", run)
    plain = train.Trainer(PRESETS["smoke"], run, systems=["blend"], progress=False)
    assert "interval" not in plain.extra["blend_tilt"]["tilt"]["lambda"]
    g_blend = {k: v.clone() for k, v in plain.modules["G_BLEND"].state_dict().items()}
    with_intervals = dataclasses.replace(PRESETS["smoke"], blend_decoding_intervals=True)
    assert with_intervals.stages_reading("blend_decoding_intervals") == ("blend_decoding",)
    t = train.Trainer(with_intervals, run, systems=["blend"], progress=False, redo=["blend_decoding"])
    t.run()
    rule, target = t.extra["blend_tilt"]["tilt"], t.extra["blend_tilt"]["target"]
    assert len(rule["lambda"]["interval"]) == 25
    assert "interval" in target["cramer"]
    assert {"interval", "interval_cramer"} <= set(rule["report"]["gaps_after"])
    assert all(torch.equal(t.modules["G_BLEND"].state_dict()[k], v) for k, v in g_blend.items())


@pytest.mark.data
@pytest.mark.slow
def test_blends_policy_gradient_reward_carries_the_midpoints_tilt_only_when_asked(smoke_run, tmp_path):
    """``blend_pg_tilt``: each blend round fits the tilt (1) on G_BLEND's own melodies and logs it
    (its gaps, the weight c = blend_pg_tilt x sd(R)); the reward differs from R by c lambda . phi,
    so G_BLEND differs from the plain run's; the rounds' reports still read R alone."""
    import dataclasses
    import json

    root, _ = smoke_run
    run = tmp_path / "run"
    shutil.copytree(root / "run", run)
    plain = train.Trainer(PRESETS["smoke"], run, systems=["blend"], progress=False)
    before = {k: v.clone() for k, v in plain.modules["G_BLEND"].state_dict().items()}
    on = dataclasses.replace(PRESETS["smoke"], blend_pg_tilt=1 / 3)
    assert on.stages_reading("blend_pg_tilt") == ("blend",)
    t = train.Trainer(on, run, systems=["blend"], progress=False, redo=["blend"])
    t.run()
    logged = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    fits = [r for r in logged if r.get("phase") == "pg_tilt"]
    assert len(fits) == on.blend_rounds
    assert all(r["melodies"] == on.blend_pg_tilt_melodies and r["c"] >= 0 for r in fits)
    assert {"dd", "dd_cramer", "pc_transition"} <= set(fits[0]["gaps_before"])  # the decoding rule's target
    # the reward of one round: R plus c lambda . phi, not R alone
    g = t.modules["G_BLEND"]
    reward = t.tilted_reward(g, 0)
    seqs = t.fake(g, 8)
    assert not torch.allclose(reward(seqs), t.blend_reward(seqs))
    after = t.modules["G_BLEND"].state_dict()
    assert any(not torch.equal(after[k], before[k]) for k in after)
    assert "R" in t.extra["rounds"]["blend"][-1]
    assert "interval" not in fits[0]["gaps_before"]
    # blend_pg_tilt_intervals: the round's tilt reaches for the melodic intervals' midpoint too,
    # and the decoding rule's target stays as it was
    t.preset = dataclasses.replace(on, blend_pg_tilt_intervals=True)
    assert t.preset.stages_reading("blend_pg_tilt_intervals") == ("blend",)
    assert "interval" in t.pg_tilt_midpoint().names and "interval" not in t.decoding_midpoint().names
    t.tilted_reward(g, 0)
    last = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()][-1]
    assert last["phase"] == "pg_tilt" and "interval" in last["gaps_before"]


@pytest.mark.data
@pytest.mark.slow
def test_blends_teacher_is_hybrids_joins_only_when_asked(smoke_run, tmp_path):
    """``blend_teacher_joins`` (docs/method.md, "Hybrid's joins as Blend's teacher"): the teacher's
    rows are Hybrid's raw joins of G_POE_A and G_POE_B, alternating way round by row, encoded as
    the training windows are (BOS .. EOS, the window's whole span); the stage trains G_BLEND on
    them, so it differs from the product-of-experts teacher's G_BLEND."""
    import dataclasses

    from fusion.model import hybrid

    root, _ = smoke_run
    run = tmp_path / "run"
    shutil.copytree(root / "run", run)
    plain = train.Trainer(PRESETS["smoke"], run, systems=["blend"], progress=False)
    before = {k: v.clone() for k, v in plain.modules["G_BLEND"].state_dict().items()}
    on = dataclasses.replace(PRESETS["smoke"], blend_teacher_joins=True)
    assert on.stages_reading("blend_teacher_joins") == ("blend",)
    t = train.Trainer(on, run, systems=["blend"], progress=False, redo=["blend"])
    members = [t.modules["G_POE_A"], t.modules["G_POE_B"]]
    rows = t._joins(members, 6).tolist()
    joins = hybrid.pool(members, t.grammar, t.vocab, 6, 1, t.ticks, seed=104729 + on.seed)
    assert [j.extra["rhythm"] for j in joins] == ["jazz", "folk"] * 3
    v = t.vocab
    for row, join in zip(rows, joins):
        assert row[0] == v.bos_id and v.eos_id in row
        assert row[row.index(v.eos_id) + 1:] == [v.pad_id] * (len(row) - row.index(v.eos_id) - 1)
        mel = v.decode(row)
        assert mel.notes == join.notes and mel.notes
        assert mel.span == pytest.approx(t.ticks / v.ticks_per_beat)
    t.run()
    after = t.modules["G_BLEND"].state_dict()
    assert any(not torch.equal(after[k], before[k]) for k in after)
