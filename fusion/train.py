"""Training every system: FusionGAN (Algorithm 1) and the paper's baselines.

``python -m fusion train --preset paper`` runs these stages in order, each seeded and saved when
it finishes (``runs/<preset>/state.pt``), so an interrupted run resumes from the last finished one:

    mle_jazz       G_A <- MLE on X_A                                      (Alg. 1, step 2)
    mle_folk       G_B <- MLE on X_B
    mle_fusion     G_F <- MLE on X_A + X_B; a copy is the MLE baseline     (step 3)
    adv_jazz       D_A pre-trained on X_A vs G_A; rounds of {policy gradient of G_A with
                   rewards from D_A; D_A on fresh samples}                   (step 2)
    adv_folk       the same for G_B, D_B
    critic_fusion  D_F pre-trained on X_A, X_B vs G_F                        (step 3)
    gan            GAN baseline: a copy of the MLE G_F and of D_F, SeqGAN rounds on X_A + X_B
    rl             RL baseline: copies of G_A and G_B after adv_*, with the critics swapped
                   (D_B rewards the jazz generator, D_A the folk one)
    fusion         rounds of {D_F by Eq. 8 + 9; G_F by Eq. 4; D_A by Eq. 11 + 13; G_A by
                   Eq. 14; D_B, G_B likewise}                                (step 4)
    baselines      RM and MC note distributions

Losses are in :mod:`fusion.losses`, rollouts in :mod:`fusion.rollout`; every decision where the
paper is ambiguous is in ``docs/method.md``. The log (``log.jsonl``) has one JSON object per
step with the losses and each critic's Wasserstein estimate.
"""
from __future__ import annotations

import copy
import hashlib
import json
import random
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from fusion import corpus, losses, paths, rollout
from fusion.baselines import NoteDistribution
from fusion.critic import Critic, gradient_penalty, pad_to
from fusion.generator import Generator
from fusion.grammar import Grammar
from fusion.presets import Preset
from fusion.sampling import sample
from fusion.systems import SYSTEMS as SYSTEM_REGISTRY
from fusion.tokens import Vocabulary

STAGES = ("mle_jazz", "mle_folk", "mle_fusion", "adv_jazz", "adv_folk", "critic_fusion", "gan", "rl",
          "fusion", "baselines")
SYSTEMS = tuple(SYSTEM_REGISTRY)  # fusion, jazz, folk, mle, gan, rl, rm, mc
NEEDS = {
    "mle": ("mle_fusion",),
    "gan": ("mle_fusion", "critic_fusion", "gan"),
    "rl": ("mle_jazz", "mle_folk", "adv_jazz", "adv_folk", "rl"),
    "jazz": ("mle_jazz", "mle_folk", "mle_fusion", "adv_jazz", "adv_folk", "critic_fusion", "fusion"),
    "rm": ("baselines",),
    "mc": ("baselines",),
}
NEEDS["folk"] = NEEDS["fusion"] = NEEDS["jazz"]


def git_commit() -> dict:
    """The project's git commit and whether tracked files differ from it (for model cards)."""
    def run(*args):
        try:
            return subprocess.run(["git", *args], cwd=paths.PROJECT_ROOT, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    return {"commit": run("rev-parse", "HEAD") or "unknown",
            "dirty": bool(run("status", "--porcelain", "--untracked-files=no"))}


def stages_for(systems) -> list[str]:
    need = {s for name in systems for s in NEEDS[name]}
    return [s for s in STAGES if s in need]


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


# data -------------------------------------------------------------------------------------------
class Data:
    """The token sequences (BOS .. EOS) of both genres' windows, per split, and batches of them."""

    def __init__(self, preset: Preset, vocab: Vocabulary, device: torch.device):
        self.vocab, self.device, self.preset = vocab, device, preset
        settings = corpus.Settings(window_beats=preset.window_beats)
        self.corpora = {g: corpus.load(g, settings) for g in ("jazz", "folk")}
        self.seqs: dict[tuple[str, str], list[list[int]]] = {}
        self.skipped: dict[tuple[str, str], int] = {}
        for g, c in self.corpora.items():
            for split in ("train", "val", "test"):
                seqs = [[vocab.bos_id, *s, vocab.eos_id] for s in c.sequences(split, vocab)]
                if preset.window_limit:
                    seqs = seqs[: preset.window_limit]
                keep = [s for s in seqs if len(s) <= preset.max_tokens + 2]
                self.seqs[g, split] = keep
                self.skipped[g, split] = len(seqs) - len(keep)
        self.ticks = preset.window_beats * vocab.ticks_per_beat

    def windows(self, genre: str, split: str = "train"):
        ws = self.corpora[genre].windows(split)
        return ws[: self.preset.window_limit] if self.preset.window_limit else ws

    def pad(self, seqs: list[list[int]]) -> torch.Tensor:
        L = max(len(s) for s in seqs)
        return torch.tensor([s + [self.vocab.pad_id] * (L - len(s)) for s in seqs], device=self.device)

    def batch(self, domain: str, n: int, rng: random.Random) -> torch.Tensor:
        """``n`` random training windows of one genre, or half of each for ``"both"``."""
        if domain == "both":
            half = n // 2
            picks = (rng.choices(self.seqs["jazz", "train"], k=half)
                     + rng.choices(self.seqs["folk", "train"], k=n - half))
        else:
            picks = rng.choices(self.seqs[domain, "train"], k=n)
        return self.pad(picks)

    def counts(self) -> dict:
        out = {}
        for g, c in self.corpora.items():
            out[g] = {"source": c.source,
                      "pieces": {s: len(c.pieces[s]) for s in ("train", "val", "test")},
                      "windows": {s: len(self.seqs[g, s]) for s in ("train", "val", "test")},
                      "skipped_longer_than_max_tokens": {s: self.skipped[g, s] for s in ("train", "val", "test")}}
        return out

    def digest(self) -> str:
        """SHA-256 of every training and validation token sequence (identifies the data exactly)."""
        h = hashlib.sha256()
        for key in sorted(self.seqs):
            h.update(repr(key).encode())
            for s in self.seqs[key]:
                h.update(bytes(str(s), "ascii"))
        return h.hexdigest()


# the trainer ------------------------------------------------------------------------------------
@dataclass
class StepLog:
    path: Path | None

    def __call__(self, record: dict) -> None:
        record = {"time": round(time.time(), 3), **record}
        if self.path is not None:
            with self.path.open("a") as f:
                f.write(json.dumps(record) + "\n")


class Trainer:
    def __init__(self, preset: Preset, run_dir: str | Path, systems=SYSTEMS, device: str = "auto",
                 progress: bool = True, data: Data | None = None):
        self.preset = preset
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.systems = tuple(systems)
        self.stages = stages_for(self.systems)
        self.device = pick_device(device)
        self.progress = progress
        self.vocab = Vocabulary()
        self.grammar = Grammar(self.vocab, self.device)
        self.data = data or Data(preset, self.vocab, self.device)
        self.ticks = self.data.ticks
        self.log = StepLog(self.run_dir / "log.jsonl")
        self.modules: dict[str, torch.nn.Module] = {}
        self.extra: dict = {"val_nll": {}, "stage_seconds": {}, "final": {}}
        self.done: list[str] = []
        self._load()

    # state ------------------------------------------------------------------------------------
    @property
    def state_path(self) -> Path:
        return self.run_dir / "state.pt"

    def new_generator(self) -> Generator:
        return Generator(self.preset.generator).to(self.device)

    def new_critic(self) -> Critic:
        return Critic(self.preset.critic, pad_id=self.vocab.pad_id).to(self.device)

    def _save(self) -> None:
        state = {"preset": self.preset.to_dict(), "done": self.done, "extra": self.extra,
                 "modules": {k: m.state_dict() for k, m in self.modules.items()}}
        tmp = self.state_path.with_suffix(".tmp")
        torch.save(state, tmp)
        tmp.replace(self.state_path)

    def _load(self) -> None:
        if not self.state_path.exists():
            return
        state = torch.load(self.state_path, map_location=self.device, weights_only=False)
        if state["preset"] != self.preset.to_dict():
            raise ValueError(f"{self.state_path} was written by a different preset; "
                             "use another --run-dir or --fresh")
        self.done, self.extra = state["done"], state["extra"]
        for k, sd in state["modules"].items():
            m = self.new_generator() if k.startswith("G") else self.new_critic()
            m.load_state_dict(sd)
            self.modules[k] = m

    # running ----------------------------------------------------------------------------------
    def run(self) -> dict:
        t0 = time.time()
        commit = git_commit()
        commit = commit["commit"][:12] + ("+dirty" if commit["dirty"] else "")
        for i, stage in enumerate(STAGES):
            if stage not in self.stages or stage in self.done:
                continue
            seed = self.preset.seed * 1000 + i
            torch.manual_seed(seed)
            self.rng = random.Random(seed)
            self.tgen = torch.Generator(device=self.device).manual_seed(seed)
            start = time.time()
            self.log({"stage": stage, "event": "start"})
            getattr(self, f"stage_{stage}")()
            self.extra["stage_seconds"][stage] = round(time.time() - start, 1)
            self.extra.setdefault("stage_commits", {})[stage] = commit
            self.done.append(stage)
            self._save()
            self.log({"stage": stage, "event": "done", "seconds": self.extra["stage_seconds"][stage]})
        self.extra["run_seconds"] = round(sum(self.extra["stage_seconds"].values()), 1)
        self.extra["this_call_seconds"] = round(time.time() - t0, 1)
        return self.extra

    def _bar(self, total: int, desc: str):
        return tqdm(total=total, desc=desc, disable=not self.progress, dynamic_ncols=True, leave=True)

    # MLE --------------------------------------------------------------------------------------
    @torch.no_grad()
    def val_nll(self, g: Generator, genre: str, split: str = "val") -> float:
        """Mean negative log-likelihood per token (nats) of a split's windows."""
        g.eval()
        seqs = self.data.seqs[genre, split]
        total, count = 0.0, 0
        for i in range(0, len(seqs), 256):
            nll, n = g.nll(self.data.pad(seqs[i:i + 256]), self.grammar, self.ticks)
            total, count = total + float(nll), count + n
        g.train()
        return total / max(count, 1)

    def domain_val(self, g: Generator, domain: str) -> float:
        if domain == "both":  # each genre weighs half
            return (self.val_nll(g, "jazz") + self.val_nll(g, "folk")) / 2
        return self.val_nll(g, domain)

    def mle(self, key: str, domain: str) -> None:
        p = self.preset
        g = self.new_generator()
        opt = torch.optim.Adam(g.parameters(), lr=p.mle_lr)
        steps = p.mle_steps[{"jazz": "jazz", "folk": "folk", "both": "fusion"}[domain]]
        best, best_state = float("inf"), None
        bar = self._bar(steps, f"MLE {key} on {domain}")
        for step in range(1, steps + 1):
            nll, n = g.nll(self.data.batch(domain, p.batch, self.rng), self.grammar, self.ticks)
            loss = nll / n
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(g.parameters(), 5.0)
            opt.step()
            rec = {"stage": f"mle_{key}", "step": step, "model": key, "nll": round(loss.item(), 4)}
            if step % p.eval_every == 0 or step == steps:
                v = self.domain_val(g, domain)
                rec["val_nll"] = round(v, 4)
                if v < best:
                    best, best_state = v, copy.deepcopy(g.state_dict())
            self.log(rec)
            bar.update()
            bar.set_postfix(nll=f"{loss.item():.3f}", best_val=f"{best:.3f}")
        bar.close()
        g.load_state_dict(best_state)
        self.modules[key] = g
        self.extra["val_nll"][f"{key}_mle"] = round(best, 4)

    def stage_mle_jazz(self):
        self.mle("G_A", "jazz")

    def stage_mle_folk(self):
        self.mle("G_B", "folk")

    def stage_mle_fusion(self):
        self.mle("G_F", "both")
        self.modules["G_MLE"] = copy.deepcopy(self.modules["G_F"])

    # adversarial pieces -----------------------------------------------------------------------
    @torch.no_grad()
    def fake(self, g: Generator, n: int) -> torch.Tensor:
        return sample([g], [1.0], n, self.ticks, self.grammar, generator=self.tgen)

    def critic_update(self, critic: Critic, opt, batches: dict, objective, balance=None,
                      positive=(), negative=(), real=()) -> dict:
        """One critic step: maximise ``objective(scores)``, minus the balance penalty, with the
        gradient penalty between a random mix of the positive and of the negative sets."""
        p = self.preset
        critic.train()
        d = {k: critic(v) for k, v in batches.items()}
        obj = objective(d)
        bal = balance(d) if balance else torch.zeros((), device=self.device)
        L = max(v.shape[1] for v in batches.values())
        pos = torch.cat([pad_to(batches[k], L) for k in positive])
        neg = torch.cat([pad_to(batches[k], L) for k in negative])
        pos = pos[torch.randperm(len(pos), generator=self.tgen, device=self.device)]
        neg = neg[torch.randperm(len(neg), generator=self.tgen, device=self.device)]
        gp = gradient_penalty(critic, pos, neg, generator=self.tgen)
        drift = torch.cat([d[k] for k in real]).pow(2).mean()
        loss = losses.critic_loss(obj, bal, gp, drift, beta=p.balance_beta, lam=p.gp_lambda, eps=p.drift)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"w": round(obj.item(), 4), "balance": round(bal.item(), 4), "gp": round(gp.item(), 4),
                **{f"mean_{k}": round(v.mean().item(), 4) for k, v in d.items()}}

    def pg_step(self, g: Generator, net: Generator, opt, rewards: list[tuple[Critic, float]],
                anchor: str | None = None) -> dict:
        """One policy-gradient step of ``g``: sample, roll out every prefix (batched), score the
        completions with each critic (standardized), combine with the signs given, REINFORCE;
        plus ``pg_mle_weight`` times the MLE loss on a batch of the generator's own training
        data (``anchor``: jazz, folk or both), which keeps it on the data (docs/method.md)."""
        p = self.preset
        seq = self.fake(g, p.pg_batch)
        keep = rollout.prefix_lengths(seq, self.grammar, p.n_prefixes)
        done = rollout.rollouts(net, seq, keep, p.n_rollouts, self.grammar, self.ticks, generator=self.tgen)
        B, P, M = seq.shape[0], p.n_prefixes, p.n_rollouts
        reward = torch.zeros(B, seq.shape[1] - 1, device=self.device)
        raw = {}
        with torch.no_grad():
            for i, (critic, sign) in enumerate(rewards):
                critic.eval()
                s_done, s_full = critic(done), critic(seq)
                raw[f"score{i}"] = round(s_full.mean().item(), 4)
                z = losses.standardize(torch.cat([s_done, s_full]))
                q = z[: B * P * M].view(B, P, M).mean(2)
                reward += sign * rollout.token_rewards(q, z[B * P * M:], keep, seq.shape[1] - 1)
        mask = seq[:, 1:] != self.vocab.pad_id
        adv = losses.standardize(reward, mask)
        g.train()
        logp = g.masked_log_probs(seq, self.grammar, self.ticks)
        loss = losses.policy_gradient_loss(logp, adv, mask)
        if anchor and p.pg_mle_weight:
            nll, n = g.nll(self.data.batch(anchor, p.batch // 2, self.rng), self.grammar, self.ticks)
            raw["anchor_nll"] = round(nll.item() / n, 4)
            loss = loss + p.pg_mle_weight * nll / n
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(g.parameters(), 5.0)
        opt.step()
        rollout.trail(net, g, p.rollout_keep)
        return {"pg_loss": round(loss.item(), 4), **raw}

    def critic_opt(self, critic):
        return torch.optim.Adam(critic.parameters(), lr=self.preset.critic_lr, betas=(0.5, 0.9))

    def gen_opt(self, g):
        return torch.optim.Adam(g.parameters(), lr=self.preset.pg_lr)

    def two_set_critic_step(self, critic, opt, real_domain: str, g: Generator | list[Generator]) -> dict:
        """Critic on real windows (one genre or both) vs samples of one or more generators."""
        n = self.preset.batch
        gens = g if isinstance(g, list) else [g]
        batches = {}
        if real_domain == "both":
            batches["xa"] = self.data.batch("jazz", n // 2, self.rng)
            batches["xb"] = self.data.batch("folk", n // 2, self.rng)
        else:
            batches["x"] = self.data.batch(real_domain, n, self.rng)
        for i, gi in enumerate(gens):
            batches[f"g{i}"] = self.fake(gi, n // len(gens))
        pos = [k for k in batches if k.startswith("x")]
        neg = [k for k in batches if k.startswith("g")]
        return self.critic_update(critic, opt, batches,
                                  lambda d: losses.wasserstein([d[k] for k in pos], [d[k] for k in neg]),
                                  positive=pos, negative=neg, real=pos)

    def seqgan(self, stage: str, gkey: str, ckey: str, real_domain: str, pretrain: bool, anchor: str) -> None:
        """Critic pre-training (optional) then rounds of {g_steps PG; d_steps critic}."""
        p = self.preset
        g, critic = self.modules[gkey], self.modules[ckey]
        copt, gopt = self.critic_opt(critic), self.gen_opt(g)
        net = rollout.make_rollout_net(g)
        total = (p.critic_pre_steps if pretrain else 0) + p.adv_rounds * (p.adv_g_steps + p.adv_d_steps)
        bar = self._bar(total, f"{stage}: {gkey} vs {ckey}")
        if pretrain:
            for step in range(p.critic_pre_steps):
                rec = self.two_set_critic_step(critic, copt, real_domain, g)
                self.log({"stage": stage, "phase": "critic_pre", "step": step, "critic": ckey, **rec})
                bar.update()
                bar.set_postfix(W=rec["w"])
        for r in range(p.adv_rounds):
            for step in range(p.adv_g_steps):
                rec = self.pg_step(g, net, gopt, [(critic, 1.0)], anchor=anchor)
                self.log({"stage": stage, "phase": "generator", "round": r, "step": step, "model": gkey, **rec})
                bar.update()
            for step in range(p.adv_d_steps):
                rec = self.two_set_critic_step(critic, copt, real_domain, g)
                self.log({"stage": stage, "phase": "critic", "round": r, "step": step, "critic": ckey, **rec})
                bar.update()
                bar.set_postfix(W=rec["w"])
        bar.close()
        self.extra["final"][f"{stage}:{ckey}"] = rec["w"]

    # stages -------------------------------------------------------------------------------------
    def stage_adv_jazz(self):
        self.modules["D_A"] = self.new_critic()
        self.seqgan("adv_jazz", "G_A", "D_A", "jazz", pretrain=True, anchor="jazz")

    def stage_adv_folk(self):
        self.modules["D_B"] = self.new_critic()
        self.seqgan("adv_folk", "G_B", "D_B", "folk", pretrain=True, anchor="folk")

    def stage_critic_fusion(self):
        p = self.preset
        critic = self.modules["D_F"] = self.new_critic()
        opt = self.critic_opt(critic)
        bar = self._bar(p.critic_pre_steps, "critic_fusion: D_F on jazz + folk vs G_F")
        for step in range(p.critic_pre_steps):
            rec = self.two_set_critic_step(critic, opt, "both", self.modules["G_F"])
            self.log({"stage": "critic_fusion", "phase": "critic_pre", "step": step, "critic": "D_F", **rec})
            bar.update()
            bar.set_postfix(W=rec["w"])
        bar.close()
        self.extra["final"]["critic_fusion:D_F"] = rec["w"]

    def stage_gan(self):
        self.modules["G_GAN"] = copy.deepcopy(self.modules["G_MLE"])
        self.modules["D_GAN"] = copy.deepcopy(self.modules["D_F"])
        self.seqgan("gan", "G_GAN", "D_GAN", "both", pretrain=False, anchor="both")

    def stage_rl(self):
        self.modules["G_RL_A"] = copy.deepcopy(self.modules["G_A"])  # jazz generator, folk critic
        self.modules["D_RL_B"] = copy.deepcopy(self.modules["D_B"])
        self.seqgan("rl", "G_RL_A", "D_RL_B", "folk", pretrain=False, anchor="jazz")
        self.modules["G_RL_B"] = copy.deepcopy(self.modules["G_B"])  # folk generator, jazz critic
        self.modules["D_RL_A"] = copy.deepcopy(self.modules["D_A"])
        self.seqgan("rl", "G_RL_B", "D_RL_A", "jazz", pretrain=False, anchor="folk")

    def five_sets(self) -> dict:
        """Fresh batches of the five inputs of Eq. 1."""
        n = self.preset.batch // 2
        m = self.modules
        return {"xa": self.data.batch("jazz", n, self.rng), "xb": self.data.batch("folk", n, self.rng),
                "ga": self.fake(m["G_A"], n), "gb": self.fake(m["G_B"], n), "gf": self.fake(m["G_F"], n)}

    def stage_fusion(self):
        p = self.preset
        m = self.modules
        critics = {"D_F": m["D_F"], "D_A": m["D_A"], "D_B": m["D_B"]}
        copts = {k: self.critic_opt(c) for k, c in critics.items()}
        gens = {"G_F": m["G_F"], "G_A": m["G_A"], "G_B": m["G_B"]}
        gopts = {k: self.gen_opt(g) for k, g in gens.items()}
        nets = {k: rollout.make_rollout_net(g) for k, g in gens.items()}
        updates = {  # critic, its objective and balance, its positive and negative sets
            "D_F": (losses.eq8_fusion_critic, losses.eq9_fusion_balance, ["xa", "xb", "ga", "gb"], ["gf"]),
            "D_A": (lambda d: losses.eq11_source_critic(d, "xa"), lambda d: losses.eq13_source_balance(d, "xa"),
                    ["xa"], ["xb", "ga", "gb", "gf"]),
            "D_B": (lambda d: losses.eq11_source_critic(d, "xb"), lambda d: losses.eq13_source_balance(d, "xb"),
                    ["xb"], ["xa", "ga", "gb", "gf"]),
        }
        rewards = {  # generator: (critic, sign) -- Eq. 4 for G_F, Eq. 14 (resolved) for G_A, G_B
            "G_F": [(m["D_F"], 1.0), (m["D_A"], 1.0), (m["D_B"], 1.0)],
            "G_A": [(m["D_A"], 1.0), (m["D_B"], -1.0), (m["D_F"], 1.0)],
            "G_B": [(m["D_B"], 1.0), (m["D_A"], -1.0), (m["D_F"], 1.0)],
        }
        anchors = {"G_F": "both", "G_A": "jazz", "G_B": "folk"}
        order = [("D_F", "G_F"), ("D_A", "G_A"), ("D_B", "G_B")]
        bar = self._bar(p.fusion_rounds * 3 * (p.fusion_d_steps + p.fusion_g_steps), "fusion")
        last = {}
        for r in range(p.fusion_rounds):
            for ckey, gkey in order:
                objective, balance, pos, neg = updates[ckey]
                for step in range(p.fusion_d_steps):
                    rec = self.critic_update(critics[ckey], copts[ckey], self.five_sets(), objective, balance,
                                             positive=pos, negative=neg, real=["xa", "xb"])
                    self.log({"stage": "fusion", "phase": "critic", "round": r, "step": step, "critic": ckey, **rec})
                    last[ckey] = rec
                    bar.update()
                    bar.set_postfix(**{k: v["w"] for k, v in last.items()})
                for step in range(p.fusion_g_steps):
                    rec = self.pg_step(gens[gkey], nets[gkey], gopts[gkey], rewards[gkey], anchor=anchors[gkey])
                    self.log({"stage": "fusion", "phase": "generator", "round": r, "step": step, "model": gkey, **rec})
                    bar.update()
        bar.close()
        for k, rec in last.items():
            self.extra["final"][f"fusion:{k}"] = rec["w"]
            self.extra["final"][f"fusion:{k}:balance"] = rec["balance"]

    def stage_baselines(self):
        windows = [self.data.windows("jazz"), self.data.windows("folk")]
        self.extra["rm"] = NoteDistribution.fit("rm", *windows).to_dict()
        self.extra["mc"] = NoteDistribution.fit("mc", *windows).to_dict()
        self.log({"stage": "baselines", "rm_events": len(self.extra["rm"]["events"]),
                  "mc_durations": len(self.extra["mc"]["durations"])})
