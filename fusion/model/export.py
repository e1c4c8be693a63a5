"""From a finished training run to ``checkpoints/<system>/`` with model cards, and its curves.

The model card of each system records how it was made: the command, preset, commit, device,
wall time, the data (sources, piece and window counts, SHA-256 of the token sequences), the
parameter count, validation likelihood on both genres and the final critic estimates.
"""
from __future__ import annotations

import datetime as dt
import json
import platform
from pathlib import Path

import torch

from fusion import registry
from fusion.model import systems
from fusion.model.baselines import NoteDistribution
from fusion.paths import git_commit
from fusion.model.train import NEEDS, STAGES, Trainer


def sampling_rule(name: str, extra: dict, reward=None) -> dict:
    """How the system's members make one melody, and its own temperature (``config.json``'s
    ``sampling``, read by :meth:`fusion.model.systems.System.sample`). ``reward``: the run's
    :class:`fusion.model.blend.Reward`, which Blend's decoding rule carries when it weighs it."""
    if name == "poe":
        w = extra["poe"]["weight"]
        return {"combine": "product", "weights": [w, round(1 - w, 6)], "chosen_by": "mean blend reward",
                "scores": extra["poe"]["scores"]}
    if name == "mle_t":
        return {"temperature": extra["mle_t"]["temperature"],
                "chosen_by": "mean blend reward, among temperatures within 0.05 nats/token of the best validation NLL",
                "scores": extra["mle_t"]["scores"]}
    if name == "rl":
        return {"combine": "choice"}
    if name == "hybrid":
        rule = {"combine": "hybrid", "rhythm_of_even_rows": "member0 (G_A, jazz)", "tune_length": 4,
                "chosen_by": "nothing: no free parameter (docs/method.md, 'Hybrid')"}
        if "hybrid_tilt" in extra:
            t = extra["hybrid_tilt"]
            rule.update(tilt=t["tilt"], target=t["target"], candidates=t["tilt"]["group"],
                        chosen_by="the join has no free parameter; the decoding rule's tilt leans toward the "
                                  "midpoint of the genres' training statistics (fusion.model.tilt, (2) without the reward); never "
                                  "the judge or the critics (docs/method.md, \"Hybrid's decoding rule\")")
        return rule
    if name == "cross":
        return {"combine": "cross", "rhythm_of_even_rows": "member0 (G_A, jazz)",
                "chosen_by": "nothing: no free parameter (docs/method.md, 'Crossed aspects')"}
    if name == "blend" and "blend_tilt" in extra:
        t = extra["blend_tilt"]
        rule = {"tilt": t["tilt"], "target": t["target"], "candidates": t["tilt"]["group"],
                "teacher_tilt": extra.get("blend_teacher_tilt", {}),
                "chosen_by": "the midpoint of the genres' training statistics and the blend reward of the genre "
                             "critics (fusion.model.tilt, (2)); never the judge"}
        if t["tilt"].get("beta"):
            rule["reward"] = reward.to_config() if reward is not None else {}
        return rule
    return {}


def _gaps(rep: dict) -> str:
    """A fitted tilt's per-feature gaps from the midpoint, before -> after (and held out)."""
    return "; ".join(f"{f}: {rep['gaps_before'][f]:.3f} -> {rep['gaps_after'][f]:.3f}"
                     + (f" (held out {rep['held_out_gaps_before'][f]:.3f} -> {rep['held_out_gaps_after'][f]:.3f})"
                        if "held_out_gaps_after" in rep else "") for f in rep["gaps_before"])


def card(name: str, config: dict) -> str:
    t = config["training"]
    secs = t["stage_seconds"]
    stage_times = ", ".join(f"{s} {secs[s]:.0f} s" for s in STAGES if s in secs)
    lines = [f"# FusionGAN checkpoint: `{name}`", "", config["description"] + ".", "",
             "| | |", "|---|---|",
             f"| command | `{t['command']}` |",
             f"| preset | `{t['preset']['name']}` |",
             f"| commit (export) | `{t['commit']['commit']}`{' (uncommitted changes)' if t['commit']['dirty'] else ''} |",
             f"| commit (training, per stage) | {', '.join(sorted(set(t.get('stage_commits', {}).values()))) or 'not recorded'} |",
             f"| finished | {t['finished']} |",
             f"| wall time of the run | {t['run_seconds'] / 60:.1f} min (all stages; this system's: "
             f"{stage_times}) |",
             f"| device | {t['device']}, torch {t['torch']}, {t['threads']} threads, {t['machine']} |",
             f"| parameters | {config.get('parameters', 0):,} |"]
    for key, val in config.get("validation_nll", {}).items():
        lines.append(f"| validation NLL, {key} | {val:.4f} nats/token |")
    for key, val in config.get("critic_estimates", {}).items():
        lines.append(f"| final critic estimate `{key}` | {val:.4f} |")
    rule = config.get("sampling", {})
    if rule.get("combine") == "product":
        lines += ["", "## Sampling", "", f"Product of experts p_A^w p_B^(1-w) with w = {rule['weights'][0]:g}, "
                  f"chosen by the {rule['chosen_by']} (genre critics; never the judge) among: "
                  + ", ".join(f"w = {k}: R = {v['R']:.3f}" for k, v in rule["scores"].items()) + "."]
    elif rule.get("combine") == "cross":
        lines += ["", "## Sampling", "", "Crossed aspects: at each step the rhythm model decides whether a rest, a "
                  "note, a duration or the end comes, and the pitch model which pitch a note takes (p(PITCH_p) = "
                  "p_R(a note) p_P(PITCH_p) / p_P(a note); `fusion/model/sampling.py`, `combine=\"cross\"`). "
                  "Melody i of a draw with seed s takes its rhythm from G_A (jazz) and its pitches from G_B (folk) "
                  "when i + s is even, the reverse when it is odd. Nothing is chosen: there is no free parameter "
                  "(docs/method.md, \"Crossed aspects\")."]
    elif rule.get("combine") == "hybrid":
        lines += ["", "## Sampling", "", "Hybrid: each melody joins two melodies, each written by its own genre "
                  "generator alone: the rhythm source gives every note's onset and duration (and the rests), the "
                  f"pitch source, sampled {rule['tune_length']} times as long (and continued while it has fewer "
                  "notes), gives the pitches, its first ones in order. Melody i of a draw with seed s takes its "
                  "rhythm from G_A (jazz) and its pitches from G_B (folk) when i + s is even, the reverse when it "
                  "is odd." + (" Nothing is chosen: there is no free parameter (docs/method.md, \"Hybrid\")."
                               if "tilt" not in rule else "")]
        if "tilt" in rule:
            rep = rule["tilt"]["report"]
            lines += ["", f"Each melody is one of {rule['candidates']} such joins of its way round, drawn with "
                      "probability softmax(lambda . phi) among them: an exponential tilt toward the midpoint of "
                      "real jazz and real folk (training windows) on note durations, pitch classes, IOI-class and "
                      "pitch-class transitions and melodic intervals (`fusion/model/tilt.py`, (2) without the "
                      f"reward; rho {rep['rho']:g}, effective candidates {rep['ess_share'] * rule['candidates']:.1f} "
                      f"of {rule['candidates']}; docs/method.md, \"Hybrid's decoding rule\"). Distance from the "
                      "midpoint (|h - h*| / |h_jazz - h_folk|; a genre itself is about 0.5), without -> with the "
                      f"tilt: {_gaps(rep)}."]
            if "rho_held_out_loss" in rep:
                lines += ["", "rho is the one of the grid, among those that keep a quarter of the candidates "
                          "effective, whose lambda, fitted on these joins, leaves the least loss (1) on as many "
                          "held-out joins (rho: held-out loss): "
                          + ", ".join(f"{k}: {v:.4f}" for k, v in rep["rho_held_out_loss"].items()) + "."]
    elif "temperature" in rule:
        lines += ["", "## Sampling", "", f"Temperature T = {rule['temperature']:g}, chosen by the "
                  f"{rule['chosen_by']} (genre critics and validation likelihood; never the judge) among: "
                  + ", ".join(f"T = {k}: R = {v['R']:.3f}, val NLL {v.get('val_nll', float('nan')):.3f}"
                              for k, v in rule["scores"].items()) + "."]
    elif "tilt" in rule:
        rep = rule["tilt"]["report"]
        gaps = _gaps(rep) + ";"
        teach = rule.get("teacher_tilt", {})
        beta = float(rule["tilt"].get("beta", 0.0))
        lines += ["", "## Sampling", "", f"Each melody is one of {rule['candidates']} candidates, drawn with "
                  + ("probability softmax(lambda . phi + beta R) among them: an exponential tilt toward a higher "
                     "blend reward R of the genre critics (which this checkpoint carries) and " if beta else
                     "probability softmax(lambda . phi) among them: an exponential tilt ")
                  + "toward the midpoint of real "
                  "jazz and real folk (training windows) on note durations, pitch classes, IOI-class and "
                  f"pitch-class transitions (`fusion/model/tilt.py`, (2); rho {rep['rho']:g}"
                  + (f", beta {beta:g}" if beta else "") + ", effective candidates "
                  f"{rep['ess_share'] * rule['candidates']:.1f} of {rule['candidates']}). Distance from the midpoint "
                  f"(|h - h*| / |h_jazz - h_folk|; a genre itself is about 0.5), without -> with the tilt: {gaps[:-1]}."]
        if "rho_cv_loss" in rep:
            lines += ["", "rho is the one of the grid, among those that keep a quarter of the candidates effective, "
                      "with the least two-fold cross-validated loss (1) on these melodies (rho: loss): "
                      + ", ".join(f"{k}: {v:.4f}" for k, v in rep["rho_cv_loss"].items()) + "."]
        if "rho_held_out_loss" in rep:
            lines += ["", "rho is the one of the grid, among those that keep a quarter of the candidates effective, "
                      "whose lambda, fitted on these melodies, leaves the least loss (1) on as many held-out "
                      "melodies of the same generator (rho: held-out loss): "
                      + ", ".join(f"{k}: {v:.4f}" for k, v in rep["rho_held_out_loss"].items())
                      + " (docs/method.md, \"Choosing rho on the held-out candidates\")."]
        if rep.get("gap_limit") is not None:
            lines += ["", f"beta stops where the rule's summed distance from the midpoint on these melodies would "
                      f"exceed {rep['gap_limit']:.3f}, giving back more than {1 - rep['gap_keep']:.0%} of what the "
                      "statistics' tilt alone took off it (docs/method.md, \"A floor on the rule's statistics\")."]
        if beta and "reward_after" in rep:
            lines += ["", f"Mean blend reward R of the candidates -> of the melodies kept: {rep['reward_before']:.3f} -> "
                      f"{rep['reward_after']:.3f}" + (f" (held out {rep['held_out_reward_before']:.3f} -> "
                                                      f"{rep['held_out_reward_after']:.3f})"
                                                      if "held_out_reward_after" in rep else "")
                      + f"; the statistics' tilt alone keeps {rep['ess_share_stats'] * rule['candidates']:.1f} "
                      f"candidates effective, beta is the largest of the grid that keeps at least "
                      f"{rep['total_min_ess'] * rule['candidates']:g} (tried: "
                      + ", ".join(f"{b}: {e * rule['candidates']:.1f}" for b, e in rep["betas_tried"].items()) + ")."]
        pg_tilt = float(t["preset"].get("blend_pg_tilt", 0.0))
        if pg_tilt:
            lines += ["", "In each policy-gradient round the reward was R + c lambda . phi: the same kind of tilt, "
                      f"fitted on {t['preset']['blend_pg_tilt_melodies']} of G_BLEND's own melodies drawn at the "
                      f"round's start, with c = {pg_tilt:.3g} x sd(R) (docs/method.md, \"The midpoint in G_BLEND's "
                      "reward\"; the rounds below report R alone)."]
        if teach:
            lines += ["", f"The teacher ({teach['melodies']} product-of-experts melodies) was tilted the same way "
                      f"(rho {teach['rho']:g}, effective share {teach['ess_share']:.2f}): "
                      + "; ".join(f"{f}: {teach['gaps_before'][f]:.3f} -> {teach['gaps_after'][f]:.3f}"
                                  for f in teach["gaps_before"]) + "."]
    for stage, recs in config.get("rounds", {}).items():
        cols = [c for c in ("param_l2_from_start", "param_max_from_start", "val_nll_jazz", "val_nll_folk", "R",
                            "w_D_F", "w_D_A", "w_D_B", "balance_D_A", "balance_D_B") if c in recs[-1]]
        lines += ["", f"## Per round of `{stage}` (round -1: before the first)", "",
                  "| round | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
        lines += [f"| {r['round']} | " + " | ".join(f"{r.get(c, float('nan')):.4g}" for c in cols) + " |" for r in recs]
    lines += ["", "## Data", "", f"Token data SHA-256: `{t['data_sha256']}`", "",
              "| genre | source | pieces train/val/test | windows train/val/test | skipped (> max tokens) |",
              "|---|---|---|---|---|"]
    for g, c in t["data"].items():
        p, w, s = c["pieces"], c["windows"], c["skipped_longer_than_max_tokens"]
        lines.append(f"| {g} | {c['source']} | {p['train']}/{p['val']}/{p['test']} | "
                     f"{w['train']}/{w['val']}/{w['test']} | {s['train']}/{s['val']}/{s['test']} |")
    lines += ["", "Read at run time from the data folder (`$FUSION_DATA`, default `../shared/data`); "
              "no data is stored here. Major-key pieces transposed to C, 16-beat windows "
              "(`docs/method.md`).", "", "## Preset", "", "```json",
              json.dumps(t["preset"], indent=1), "```", ""]
    return "\n".join(lines)


def export(trainer: Trainer, out: str | Path, command: str) -> list[str]:
    """Write a checkpoint folder for every system of the run; returns their names."""
    out = Path(out)
    data = trainer.data
    base = {
        "command": command,
        "preset": trainer.preset.to_dict(),
        "commit": git_commit(),
        "finished": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "run_seconds": trainer.extra.get("run_seconds", sum(trainer.extra["stage_seconds"].values())),
        "device": str(trainer.device), "torch": torch.__version__, "threads": torch.get_num_threads(),
        "machine": f"{platform.machine()} {platform.system()}",
        "data": data.counts(), "data_sha256": data.digest(),
    }
    written = []
    for name in trainer.systems:
        spec = registry.spec(name)
        keys, description = list(spec.modules), spec.description
        seconds = trainer.extra["stage_seconds"]
        commits = trainer.extra.get("stage_commits", {})
        training = dict(base, stage_seconds={s: seconds[s] for s in NEEDS[name] if s in seconds},
                        stage_commits={s: commits[s] for s in NEEDS[name] if s in commits})
        config = {"system": name, "description": description, "training": training,
                  "critic_estimates": {k: trainer.extra["final"][k] for k in spec.critics
                                       if k in trainer.extra["final"]}}
        reward = trainer.reward_object() if name == "blend" and "C_A" in trainer.modules else None
        rule = sampling_rule(name, trainer.extra, reward)
        if rule:
            config["sampling"] = rule
        extra_tensors = reward.tensors() if "reward" in rule else {}
        rounds = {st: trainer.extra.get("rounds", {}).get(st) for st in NEEDS[name]
                  if trainer.extra.get("rounds", {}).get(st)}
        if rounds:
            config["rounds"] = rounds
        folder = out / name
        if keys:
            models = [trainer.modules[k].cpu() for k in keys]
            config["parameters"] = sum(m.parameter_count() for m in models)
            config["validation_nll"] = {}
            for k, m in zip(keys, models):
                label = f" ({k})" if len(keys) > 1 else ""
                for genre in ("jazz", "folk"):
                    config["validation_nll"][f"{genre} val{label}"] = round(trainer.val_nll(m.to(trainer.device), genre), 4)
                m.cpu()
            systems.write(folder, name, config, trainer.vocab, models=models, card="", extra_tensors=extra_tensors)
        else:
            dist = NoteDistribution.from_dict(trainer.extra[name])
            config["parameters"] = len(dist.events) + len(dist.durations)
            systems.write(folder, name, config, trainer.vocab, distribution=dist, card="")
        config = json.loads((folder / "config.json").read_text())
        (folder / "README.md").write_text(card(name, config))
        written.append(name)
    for m in trainer.modules.values():
        m.to(trainer.device)
    return written
