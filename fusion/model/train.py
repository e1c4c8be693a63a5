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
    genre_critics  C_A, C_B: copies of D_A, D_B trained by Eq. 11 (own genre vs the other genre
                   and generated melodies), on whole windows and their halves; S_A, S_B, critics
                   of a melody's global statistics (fusion.model.stats_critic), trained alike;
                   all calibrated on held-out real windows (fusion.model.blend); frozen afterwards
    poe            product-of-experts baseline: p_A^w p_B^(1-w) of the pre-trained G_A, G_B, with
                   w chosen by the mean blend reward of the genre critics (never the judge)
    mle_temp       MLE baseline's sampling temperature, chosen the same way
    blend          G_BLEND: MLE warm start on PoE melodies, then policy gradient with the
                   per-melody blend reward (fusion.model.blend) and an MLE anchor on PoE melodies
    fusion         rounds of {D_F by Eq. 8 + 9; G_F by Eq. 4; D_A by Eq. 11 + 13; G_A by
                   Eq. 14; D_B, G_B likewise}                                (step 4)
    baselines      RM and MC note distributions
    blend_decoding Blend's decoding rule: one of k melodies of G_BLEND, by a tilt toward the
                   midpoint of the genres' statistics and a higher blend reward (fusion.model.tilt);
                   last, so that it can be redone alone and every other stage keeps its seed

Before the first of ``blend`` and ``fusion`` runs, the state is also kept as
``before_fusion.pt``: the seed study (``python -m fusion seeds``) re-runs those two stages with
other seeds from it.

Losses are in :mod:`fusion.model.losses`, rollouts in :mod:`fusion.model.rollout`; every decision where the
paper is ambiguous is in ``docs/method.md``. The log (``log.jsonl``) has one JSON object per
step with the losses and each critic's Wasserstein estimate.
"""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from fusion import registry
from fusion.data import corpus
from fusion.model import blend, evidence, hybrid, losses, rollout, tilt
from fusion.model.baselines import NoteDistribution
from fusion.model.critic import Critic, gradient_penalty, input_gradient_norms, pad_to
from fusion.model.generator import Generator
from fusion.model.grammar import Grammar
from fusion.paths import git_commit
from fusion.model.presets import Preset
from fusion.model.stats_critic import StatsCritic
from fusion.model.sampling import sample
from fusion.data.tokens import Vocabulary

STAGES = ("mle_jazz", "mle_folk", "mle_fusion", "adv_jazz", "adv_folk", "critic_fusion", "gan", "rl",
          "genre_critics", "poe", "mle_temp", "blend", "fusion", "baselines", "blend_decoding", "hybrid_decoding")
SYSTEMS = registry.TRAINED
NEEDS = {spec.name: spec.stages for spec in registry.SPECS if spec.trained}
#: settings of the preset that each MLE stage reads: a run whose finished stages are all MLE stages
#: resumes under a preset that changes only the later stages' settings
MLE_SETTINGS = ("generator", "window_limit", "max_tokens", "batch", "mle_steps", "mle_lr", "eval_every",
                "window_beats", "whole_windows", "seed")
SNAPSHOT = "before_fusion.pt"


def stages_for(systems) -> list[str]:
    need = {s for name in systems for s in NEEDS[name]}
    return [s for s in STAGES if s in need]


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def forget(done: list[str], redo) -> list[str]:
    """``done`` without the stages in ``redo`` and every stage after the first of them."""
    if not redo:
        return list(done)
    first = min(STAGES.index(s) for s in redo)
    return [s for s in done if STAGES.index(s) < first]


# data -------------------------------------------------------------------------------------------
class Data:
    """The token sequences (BOS .. EOS) of both genres' windows, per split, and batches of them."""

    def __init__(self, preset: Preset, vocab: Vocabulary, device: torch.device):
        self.vocab, self.device, self.preset = vocab, device, preset
        settings = corpus.Settings(window_beats=preset.window_beats, whole_windows=preset.whole_windows)
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


def genre_midpoint(data: Data, n: int, cramer: bool = False, transitions: bool = False,
                   rests: bool = False, intervals: bool = False) -> tilt.Target:
    """The midpoint of real jazz and real folk on the tilt's features (:mod:`fusion.model.tilt`),
    measured on ``n`` training windows of each genre (a fixed random choice); with ``cramer``,
    with the Cramer terms (1b) of the features with ordered bins; with ``transitions``, with the
    two-dimensional terms (1c) of the transition grids with ordered axes; with ``rests``, the
    rest lengths too (:data:`fusion.model.tilt.REST_FEATURE`); with ``intervals``, the melodic
    intervals too (:data:`fusion.model.tilt.INTERVAL_FEATURE`)."""
    pick = random.Random(0)
    real = {}
    for genre in ("jazz", "folk"):
        seqs = data.seqs[genre, "train"]
        chosen = pick.sample(seqs, n) if len(seqs) > n else seqs
        real[genre] = [data.vocab.decode(s) for s in chosen]
    names = tilt.FEATURE_NAMES + ((tilt.REST_FEATURE,) if rests else ()) + ((tilt.INTERVAL_FEATURE,) if intervals else ())
    return tilt.Target.between(real["jazz"], real["folk"], names, cramer=cramer, transitions=transitions)


class Trainer:
    def __init__(self, preset: Preset, run_dir: str | Path, systems=SYSTEMS, device: str = "auto",
                 progress: bool = True, data: Data | None = None, redo=()):
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
        self.redone: list[str] = []
        self._load(redo)

    # state ------------------------------------------------------------------------------------
    @property
    def state_path(self) -> Path:
        return self.run_dir / "state.pt"

    def new_generator(self) -> Generator:
        return Generator(self.preset.generator).to(self.device)

    def new_critic(self) -> Critic:
        return Critic(self.preset.critic, pad_id=self.vocab.pad_id).to(self.device)

    def new_stats_critic(self) -> StatsCritic:
        return StatsCritic(self.grammar).to(self.device)

    def _new_module(self, key: str):
        """An untrained module of the kind its key names: G_* generators, S_* statistics critics,
        the rest TextCNN critics."""
        if key.startswith("G"):
            return self.new_generator()
        return self.new_stats_critic() if key.startswith("S_") else self.new_critic()

    def _save(self) -> None:
        state = {"preset": self.preset.to_dict(), "done": self.done, "extra": self.extra,
                 "modules": {k: m.state_dict() for k, m in self.modules.items()}}
        tmp = self.state_path.with_suffix(".tmp")
        torch.save(state, tmp)
        tmp.replace(self.state_path)

    def _load(self, redo=()) -> None:
        """Resume from ``state.pt``; finished stages in ``redo`` (and all after them) run again."""
        if not self.state_path.exists():
            return
        snapshot = self.run_dir / SNAPSHOT
        kept = None
        if redo:
            before = torch.load(self.state_path, map_location="cpu", weights_only=False)["done"]
            self.redone = [s for s in before if s not in forget(before, redo)]
            if "fusion" in self.redone and snapshot.exists():
                # the fusion stage trains G_A, G_B, G_F and the critics in place: running it (or
                # a stage before it) again starts from their state before it, kept in the snapshot.
                # Blend's generator is made afresh from G_MLE by its own stage, never in place: a
                # snapshot retaken during a redo may hold an older one, which must not come back
                kept = torch.load(snapshot, map_location=self.device, weights_only=False)["modules"]
                kept.pop("G_BLEND", None)
            if any(STAGES.index(s) < STAGES.index("blend") for s in self.redone):
                snapshot.unlink(missing_ok=True)  # taken again before blend
        self.adopt(self.state_path, redo=redo)
        for stage in self.redone:  # their per-round records are made again
            self.extra.get("rounds", {}).pop(stage, None)
        for k, sd in (kept or {}).items():
            self.modules[k].load_state_dict(sd)

    def adopt(self, path: Path, check: bool = True, redo=()) -> None:
        """Take the finished stages, modules and facts of a saved state. A state written under
        another preset is refused, unless no finished stage reads a changed setting: every
        finished stage is an MLE stage and the MLE settings (:data:`MLE_SETTINGS`) are unchanged,
        or the changed settings are read only by unfinished stages
        (:meth:`fusion.model.presets.Preset.stages_reading`). ``check=False``: the seed study,
        which re-runs the fusion-stage systems with another seed."""
        state = torch.load(path, map_location=self.device, weights_only=False)
        state["done"] = forget(state["done"], redo)
        mine = self.preset.to_dict()
        # a setting added to the preset after the state was written reads as its default there
        # (every new setting defaults to what the code did before it existed); the name is a
        # label: a preset with the same settings under another name trains the same
        added = {f.name: f.default for f in dataclasses.fields(type(self.preset)) if f.default is not dataclasses.MISSING}
        saved = {**added, **state["preset"], "name": mine["name"]}
        if check and saved != mine:
            changed = {k for k in set(mine) | set(saved) if saved.get(k) != mine.get(k)}
            mle_only = all(st.startswith("mle_") for st in state["done"]) and not changed & set(MLE_SETTINGS)
            readers = [self.preset.stages_reading(k) for k in changed]
            unread = all(r is not None and not set(r) & set(state["done"]) for r in readers)
            if not (mle_only or unread):
                raise ValueError(f"{path} was written by a different preset; use another --run-dir or --fresh")
        self.done, self.extra = list(state["done"]), state["extra"]
        for k, sd in state["modules"].items():
            m = self._new_module(k)
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
            if stage in ("blend", "fusion") and not (self.run_dir / SNAPSHOT).exists():
                self._save()
                (self.run_dir / SNAPSHOT).write_bytes(self.state_path.read_bytes())
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
    def val_nll(self, g: Generator, genre: str, split: str = "val", temperature: float = 1.0) -> float:
        """Mean negative log-likelihood per token (nats) of a split's windows (under the
        distribution sampled at ``temperature``)."""
        g.eval()
        seqs = self.data.seqs[genre, split]
        total, count = 0.0, 0
        for i in range(0, len(seqs), 256):
            nll, n = g.nll(self.data.pad(seqs[i:i + 256]), self.grammar, self.ticks, temperature)
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
    def fake(self, g: Generator | list[Generator], n: int, weights=(1.0,), combine: str = "mixture",
             temperature: float = 1.0) -> torch.Tensor:
        models = g if isinstance(g, list) else [g]
        return sample(models, list(weights), n, self.ticks, self.grammar, generator=self.tgen, combine=combine,
                      temperature=temperature)

    def critic_update(self, critic: Critic, opt, batches: dict, objective, balance=None,
                      positive=(), negative=(), real=()) -> dict:
        """One critic step: maximise ``objective(scores)``, minus the balance penalty, with the
        gradient penalty between a random mix of the positive and of the negative sets. The
        record has the objective ``w`` (the critic's Wasserstein estimate), the balance, the
        penalty and the mean input-gradient norm on the interpolates (``grad_norm``, about 1 for
        a 1-Lipschitz critic)."""
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
        norms = input_gradient_norms(critic, pos, neg, generator=self.tgen, create_graph=True)
        gp = ((norms - 1) ** 2).mean()
        drift = torch.cat([d[k] for k in real]).pow(2).mean()
        loss = losses.critic_loss(obj, bal, gp, drift, beta=p.balance_beta, lam=p.gp_lambda, eps=p.drift)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"w": round(obj.item(), 4), "balance": round(bal.item(), 4), "gp": round(gp.item(), 4),
                "grad_norm": round(norms.mean().item(), 4),
                **{f"mean_{k}": round(v.mean().item(), 4) for k, v in d.items()}}

    def anchor_batch(self, anchor, n: int) -> torch.Tensor:
        """A batch for the MLE anchor: training windows of a domain (jazz, folk, both), rows of
        a tensor of token sequences, drawn uniformly, or a pair (tensor, weights), rows drawn with
        probability proportional to their weight (the blend stage's tilted teacher)."""
        if isinstance(anchor, str):
            return self.data.batch(anchor, n, self.rng)
        if isinstance(anchor, tuple):
            anchor, weights = anchor
            idx = torch.multinomial(weights, n, replacement=True, generator=self.tgen)
        else:
            idx = torch.randint(len(anchor), (n,), generator=self.tgen, device=anchor.device)
        rows = anchor[idx]
        keep = int((rows != self.vocab.pad_id).sum(1).max())
        return rows[:, :keep]

    def pg_step(self, g: Generator, net: Generator, opt, rewards, anchor=None, mle_weight: float | None = None) -> dict:
        """One policy-gradient step of ``g``: sample, roll out every prefix (batched), score the
        completions, REINFORCE; plus ``mle_weight`` (default the preset's ``pg_mle_weight``) times
        the MLE loss on an ``anchor`` batch (:meth:`anchor_batch`), which keeps it on the data
        (docs/method.md).

        ``rewards`` is a list of ``(critic, sign)``: the raw scores are summed with their signs
        and the sum is standardized once (the critics are 1-Lipschitz in their input, so their
        scores share units; standardizing each critic first made D_A and D_B cancel, Eq. 4), or a
        function from token sequences to per-melody rewards (the blend reward)."""
        p = self.preset
        seq = self.fake(g, p.pg_batch)
        keep = rollout.prefix_lengths(seq, self.grammar, p.n_prefixes)
        done = rollout.rollouts(net, seq, keep, p.n_rollouts, self.grammar, self.ticks, generator=self.tgen)
        B, P, M = seq.shape[0], p.n_prefixes, p.n_rollouts
        raw = {}
        with torch.no_grad():
            L = max(done.shape[1], seq.shape[1])
            both = torch.cat([pad_to(done, L, self.vocab.pad_id), pad_to(seq, L, self.vocab.pad_id)])
            if callable(rewards):
                total = rewards(both)
            else:
                total = torch.zeros(len(both), device=self.device)
                for i, (critic, sign) in enumerate(rewards):
                    critic.eval()
                    s = critic(both)
                    raw[f"score{i}"] = round(s[B * P * M:].mean().item(), 4)
                    total = total + sign * s
            raw["reward"] = round(total[B * P * M:].mean().item(), 4)
            z = losses.standardize(total)
            q = z[: B * P * M].view(B, P, M).mean(2)
            reward = rollout.token_rewards(q, z[B * P * M:], keep, seq.shape[1] - 1)
        mask = seq[:, 1:] != self.vocab.pad_id
        adv = losses.standardize(reward, mask)
        g.train()
        logp = g.masked_log_probs(seq, self.grammar, self.ticks)
        loss = losses.policy_gradient_loss(logp, adv, mask)
        weight = p.pg_mle_weight if mle_weight is None else mle_weight
        if anchor is not None and weight:
            nll, n = g.nll(self.anchor_batch(anchor, p.batch // 2), self.grammar, self.ticks)
            raw["anchor_nll"] = round(nll.item() / n, 4)
            loss = loss + weight * nll / n
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(g.parameters(), 5.0)
        opt.step()
        rollout.trail(net, g, p.rollout_keep)
        return {"pg_loss": round(loss.item(), 4), **raw}

    def critic_opt(self, critic):
        return torch.optim.Adam(critic.parameters(), lr=self.preset.critic_lr, betas=(0.5, 0.9))

    def gen_opt(self, g, lr: float | None = None):
        return torch.optim.Adam(g.parameters(), lr=self.preset.pg_lr if lr is None else lr)

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
        """D_F pre-trained by Eq. 8 with the balance constraint of Eq. 9, on the five sets."""
        p = self.preset
        critic = self.modules["D_F"] = self.new_critic()
        opt = self.critic_opt(critic)
        bar = self._bar(p.critic_pre_steps, "critic_fusion: D_F by Eq. 8 + 9")
        for step in range(p.critic_pre_steps):
            rec = self.critic_update(critic, opt, self.five_sets(), losses.eq8_fusion_critic,
                                     losses.eq9_fusion_balance, positive=["xa", "xb", "ga", "gb"], negative=["gf"],
                                     real=["xa", "xb"])
            self.log({"stage": "critic_fusion", "phase": "critic_pre", "step": step, "critic": "D_F", **rec})
            bar.update()
            bar.set_postfix(W=rec["w"], bal=rec["balance"])
        bar.close()
        self.extra["final"]["critic_fusion:D_F"] = rec["w"]
        self.extra["final"]["critic_fusion:D_F:balance"] = rec["balance"]

    def stage_gan(self):
        """GAN baseline: a copy of the MLE generator and a critic of its own, pre-trained on real
        jazz + folk vs its samples, then SeqGAN rounds."""
        self.modules["G_GAN"] = copy.deepcopy(self.modules["G_MLE"])
        self.modules["D_GAN"] = self.new_critic()
        self.seqgan("gan", "G_GAN", "D_GAN", "both", pretrain=True, anchor="both")

    def stage_rl(self):
        self.modules["G_RL_A"] = copy.deepcopy(self.modules["G_A"])  # jazz generator, folk critic
        self.modules["D_RL_B"] = copy.deepcopy(self.modules["D_B"])
        self.seqgan("rl", "G_RL_A", "D_RL_B", "folk", pretrain=False, anchor="jazz")
        self.modules["G_RL_B"] = copy.deepcopy(self.modules["G_B"])  # folk generator, jazz critic
        self.modules["D_RL_A"] = copy.deepcopy(self.modules["D_A"])
        self.seqgan("rl", "G_RL_B", "D_RL_A", "jazz", pretrain=False, anchor="folk")

    # genre critics, product of experts, tuned MLE, blend ---------------------------------------------
    def _stack(self, batches: list[torch.Tensor]) -> torch.Tensor:
        """Token batches of different lengths as one, padded."""
        L = max(b.shape[1] for b in batches)
        return torch.cat([pad_to(b, L, self.vocab.pad_id) for b in batches])

    def _val_tokens(self, genre: str, n: int) -> torch.Tensor:
        seqs = self.data.seqs[genre, "val"]
        rng = random.Random(self.preset.seed)
        return self.data.pad(rng.sample(seqs, min(n, len(seqs))))

    def calibration(self) -> blend.Calibration:
        """The genre critics' calibration (fitted in genre_critics, kept in the state)."""
        return blend.Calibration({tuple(k.split("|")): v for k, v in self.extra["calibration"].items()})

    def stats_critics(self) -> tuple | None:
        """S_A, S_B when this run trained them (``genre_critic_stats_steps`` > 0)."""
        m = self.modules
        return (m["S_A"], m["S_B"]) if "S_A" in m and self.preset.genre_critic_stats_steps else None

    def blend_reward(self, seqs: torch.Tensor) -> torch.Tensor:
        return blend.reward(self.modules["C_A"], self.modules["C_B"], self.calibration(), seqs, self.grammar,
                            self.stats_critics(), self.evidence())

    def evidence(self) -> evidence.Evidence | None:
        """Blend's equal-evidence acceptances when ``blend_evidence`` is on (else None): the
        frozen pre-trained genre generators the product of experts uses (G_POE_A, G_POE_B),
        calibrated on ``calibration_windows`` held-out windows of each genre, once per run (kept
        in the state, so a resumed run reads the same)."""
        if not self.preset.blend_evidence or "G_POE_A" not in self.modules:
            return None
        a, b = self.modules["G_POE_A"], self.modules["G_POE_B"]
        if "evidence" not in self.extra:
            n = self.preset.calibration_windows
            fitted = evidence.Evidence.fit(a, b, self.grammar, self._val_tokens("jazz", n), self._val_tokens("folk", n))
            self.extra["evidence"] = {"mid": fitted.mid, "half": fitted.half}
            self.log({"stage": "blend", "phase": "evidence",
                      "equal_evidence_opinion": {q: round(fitted.middle(q), 4) for q in evidence.PARTS}})
        e = self.extra["evidence"]
        return evidence.Evidence(a, b, self.grammar, dict(e["mid"]), dict(e["half"]))

    def stage_genre_critics(self):
        """C_A, C_B (copies of D_A, D_B) by Eq. 11: own genre high; the other genre and the samples
        of G_A, G_B and the MLE generator low; on whole windows and on their halves alike, with the
        one-hot gradient penalty. Then calibrated on held-out windows (fusion.model.blend)."""
        p = self.preset
        pool = {}
        share = max(1, p.negatives_pool // len(p.negative_temperatures))
        for key, gk in (("ga", "G_A"), ("gb", "G_B"), ("gf", "G_MLE")):
            pool[key] = self._stack([self.fake(self.modules[gk], min(256, share), temperature=t)
                                     for t in p.negative_temperatures for _ in range(max(1, share // 256))])
        bar = self._bar(2 * p.genre_critic_steps + 2 * p.genre_critic_stats_steps,
                        "genre_critics: C_A, C_B (and S_A, S_B) by Eq. 11")
        jobs = [("C_A", "xa", "D_A", p.genre_critic_steps), ("C_B", "xb", "D_B", p.genre_critic_steps)]
        if p.genre_critic_stats_steps:
            jobs += [("S_A", "xa", None, p.genre_critic_stats_steps), ("S_B", "xb", None, p.genre_critic_stats_steps)]
        for ckey, own, src, steps in jobs:
            critic = self.modules[ckey] = copy.deepcopy(self.modules[src]) if src else self.new_stats_critic()
            opt = self.critic_opt(critic)
            for step in range(steps):
                n = p.batch // 2
                batches = {"xa": self.data.batch("jazz", n, self.rng), "xb": self.data.batch("folk", n, self.rng)}
                for key, rows in pool.items():
                    idx = torch.randint(len(rows), (n,), generator=self.tgen, device=self.device)
                    batches[key] = self.anchor_batch(rows[idx], n)
                if step % 2:  # every other step on halves (the blend reward scores halves)
                    batches = {k: blend.halves(v, self.grammar)[step % 4 // 2] for k, v in batches.items()}
                rec = self.critic_update(critic, opt, batches, lambda d, o=own: losses.eq11_source_critic(d, o),
                                         positive=[own], negative=[k for k in batches if k != own], real=["xa", "xb"])
                self.log({"stage": "genre_critics", "phase": "critic", "step": step, "critic": ckey, **rec})
                bar.update()
                bar.set_postfix(W=rec["w"], grad=rec["grad_norm"])
            self.extra["final"][f"genre_critics:{ckey}"] = rec["w"]
        bar.close()
        cal = blend.Calibration.fit(self.modules["C_A"], self.modules["C_B"], self._val_tokens("jazz", p.calibration_windows),
                                    self._val_tokens("folk", p.calibration_windows), self.grammar, self.stats_critics())
        self.extra["calibration"] = {"|".join(k): round(v, 5) for k, v in cal.means.items()}
        self.log({"stage": "genre_critics", "calibration": self.extra["calibration"],
                  "separations": cal.separations(), "equal_density": cal.middles()})

    @torch.no_grad()
    def _selection_score(self, models: list[Generator], weights, combine: str, temperature: float,
                         with_evidence: bool = False) -> dict:
        """Mean blend reward (and its parts) of ``select_samples`` melodies of a candidate
        (``with_evidence``: Blend's reward, with the equal-evidence acceptances when on)."""
        p = self.preset
        seqs = self._stack([self.fake(models, min(256, p.select_samples), weights, combine, temperature)
                            for _ in range(max(1, p.select_samples // 256))])
        parts = blend.reward_parts(self.modules["C_A"], self.modules["C_B"], self.calibration(), seqs, self.grammar,
                                   self.stats_critics(), self.evidence() if with_evidence else None)
        return {k: round(float(v.mean()), 4) for k, v in parts.items()}

    def stage_poe(self):
        """Product of experts of the pre-trained G_A and G_B: the weight w of p_A^w p_B^(1-w) with
        the highest mean blend reward (the judge is never consulted)."""
        p = self.preset
        self.modules["G_POE_A"] = copy.deepcopy(self.modules["G_A"])
        self.modules["G_POE_B"] = copy.deepcopy(self.modules["G_B"])
        models = [self.modules["G_POE_A"], self.modules["G_POE_B"]]
        scores = {}
        for w in tqdm(p.poe_weights, desc="poe: choosing w", disable=not self.progress):
            scores[w] = self._selection_score(models, (w, 1 - w), "product", 1.0)
            self.log({"stage": "poe", "weight": w, **scores[w]})
        best = max(scores, key=lambda w: scores[w]["R"])
        self.extra["poe"] = {"weight": best, "scores": {str(k): v for k, v in scores.items()}}

    def stage_mle_temp(self):
        """The MLE generator's sampling temperature: the highest mean blend reward among the
        temperatures whose validation NLL (both genres, per token) is within
        ``temperature_nll_tolerance`` of the best temperature's. The guard is needed because the
        critics hardly penalise noise: without it the reward rises with T to the end of any grid."""
        p = self.preset
        g = self.modules["G_MLE"]
        scores = {}
        for t in tqdm(p.mle_temperatures, desc="mle_temp: choosing T", disable=not self.progress):
            scores[t] = self._selection_score([g], (1.0,), "mixture", t)
            scores[t]["val_nll"] = round((self.val_nll(g, "jazz", temperature=t)
                                          + self.val_nll(g, "folk", temperature=t)) / 2, 4)
            self.log({"stage": "mle_temp", "temperature": t, **scores[t]})
        floor = min(v["val_nll"] for v in scores.values())
        allowed = [t for t in scores if scores[t]["val_nll"] <= floor + p.temperature_nll_tolerance]
        best = max(allowed, key=lambda t: scores[t]["R"])
        self.extra["mle_t"] = {"temperature": best, "scores": {str(k): v for k, v in scores.items()}}

    @torch.no_grad()
    def _distance(self, g: Generator, start: dict) -> dict:
        """L2 and largest absolute parameter change of ``g`` from the state ``start``."""
        sq, big = 0.0, 0.0
        for k, v in g.state_dict().items():
            d = (v - start[k]).float()
            sq += float((d ** 2).sum())
            big = max(big, float(d.abs().max()))
        return {"param_l2_from_start": round(sq ** 0.5, 4), "param_max_from_start": round(big, 5)}

    def _round_report(self, stage: str, r: int, g: Generator, start: dict, **more) -> dict:
        """Log and keep G's distance from ``start`` and its validation NLL per genre after round
        ``r`` of ``stage`` (round -1: before the first); a stage's records start afresh."""
        if r == -1:
            self.extra.setdefault("rounds", {})[stage] = []
        rec = {"stage": stage, "phase": "round", "round": r, **self._distance(g, start),
               "val_nll_jazz": round(self.val_nll(g, "jazz"), 4), "val_nll_folk": round(self.val_nll(g, "folk"), 4),
               **more}
        self.log(rec)
        self.extra.setdefault("rounds", {}).setdefault(stage, []).append(rec)
        return rec

    def stage_blend(self):
        """G_BLEND: the MLE generator, warm-started by MLE on product-of-experts melodies (the
        teacher), then policy gradient on the blend reward with an MLE anchor on the teacher's
        melodies (docs/method.md, "Blend")."""
        p = self.preset
        w = self.extra["poe"]["weight"]
        teachers = [self.modules["G_POE_A"], self.modules["G_POE_B"]]
        target = self.midpoint(transitions=p.blend_teacher_transitions, rests=p.blend_teacher_rests)
        if p.blend_teacher_joins:
            pool = self._joins(teachers, p.blend_teacher)
        else:
            pool = self._melodies(teachers, (w, 1 - w), "product", p.blend_teacher, "blend: teacher melodies")
        counts = tilt.count_matrices(self._decode(pool), target.names)
        fitted = tilt.fit(counts, target, len(pool), p.blend_tilt_min_ess)
        weights = tilt.group_weights(torch.as_tensor(fitted.log_weights(counts)), len(pool)).float().to(self.device)
        self.log({"stage": "blend", "phase": "teacher_tilt", **fitted.report})
        self.extra["blend_teacher_tilt"] = fitted.report
        teacher = (pool, weights)
        g = self.modules["G_BLEND"] = copy.deepcopy(self.modules["G_MLE"])
        start = copy.deepcopy(g.state_dict())
        opt = torch.optim.Adam(g.parameters(), lr=p.mle_lr / 3)
        bar = self._bar(p.blend_warm_steps + p.blend_rounds * p.blend_g_steps, "blend")
        for step in range(p.blend_warm_steps):
            nll, n = g.nll(self.anchor_batch(teacher, p.batch), self.grammar, self.ticks)
            opt.zero_grad()
            (nll / n).backward()
            torch.nn.utils.clip_grad_norm_(g.parameters(), 5.0)
            opt.step()
            self.log({"stage": "blend", "phase": "warm", "step": step, "nll": round(nll.item() / n, 4)})
            bar.update()
        self._round_report("blend", -1, g, start, **self._selection_score([g], (1.0,), "mixture", 1.0, True))
        net = rollout.make_rollout_net(g)
        gopt = self.gen_opt(g, p.blend_lr)
        target = self.pg_tilt_midpoint() if p.blend_pg_tilt else None
        for r in range(p.blend_rounds):
            reward = self.blend_reward if target is None else self.tilted_reward(g, r, target)
            for step in range(p.blend_g_steps):
                rec = self.pg_step(g, net, gopt, reward, anchor=teacher, mle_weight=p.blend_mle_weight)
                self.log({"stage": "blend", "phase": "generator", "round": r, "step": step, "model": "G_BLEND", **rec})
                bar.update()
                bar.set_postfix(R=rec["reward"])
            rec = self._round_report("blend", r, g, start, **self._selection_score([g], (1.0,), "mixture", 1.0, True))
        bar.close()
        self.extra["final"]["blend:R"] = rec["R"]

    def tilted_reward(self, g: Generator, round_: int, target: tilt.Target | None = None):
        """The round's policy-gradient reward with the midpoint's statistics in it (preset
        ``blend_pg_tilt``; docs/method.md, "The midpoint in G_BLEND's reward"):

            R(x) + c lambda . phi(x),   c = blend_pg_tilt x sd(R)

        lambda the tilt (1) of :mod:`fusion.model.tilt` fitted on ``blend_pg_tilt_melodies`` of
        G_BLEND's own melodies, drawn now, as one group (the teacher's floor of effective melodies),
        toward the decoding rule's midpoint: the KL-regularised optimum of this reward is the
        decoding rule's (2) (``target``: :meth:`pg_tilt_midpoint`, measured once per stage by the
        caller). R is the blend reward; the round's report keeps R alone."""
        p = self.preset
        target = target or self.pg_tilt_midpoint()
        seqs = self._melodies([g], (1.0,), "mixture", p.blend_pg_tilt_melodies, f"blend: round {round_} statistics")
        sd = float(self.blend_reward(seqs).std())
        fitted = tilt.fit(tilt.count_matrices(self._decode(seqs), target.names), target, len(seqs),
                          p.blend_tilt_min_ess)
        c = p.blend_pg_tilt * sd
        self.log({"stage": "blend", "phase": "pg_tilt", "round": round_, "c": round(c, 6), "reward_sd": round(sd, 6),
                  **fitted.report})

        def reward(seqs: torch.Tensor) -> torch.Tensor:
            stats = fitted.log_weights(tilt.count_matrices(self._decode(seqs), target.names))
            return self.blend_reward(seqs) + c * torch.as_tensor(stats, dtype=torch.float32, device=seqs.device)

        return reward

    def stage_blend_decoding(self):
        """Blend's decoding rule: each melody is one of ``blend_candidates`` melodies of G_BLEND,
        drawn with probability softmax(lambda . phi + beta R) among them, (2) of
        :mod:`fusion.model.tilt`: a tilt toward the midpoint of the genres' training statistics
        and toward a higher blend reward, fitted on ``blend_tilt_fit`` of G_BLEND's own melodies
        and checked on as many more (docs/method.md, "Blend's decoding"; a quarter more, 32 groups
        at the paper preset, was too few for a rule whose weights are heavy-tailed: "Rhythm
        transitions in the teacher and the rule"). The last stage, so
        that it can be redone alone and the other stages keep their seeds."""
        p = self.preset
        target = self.decoding_midpoint()
        k, n = p.blend_candidates, p.blend_tilt_fit
        seqs = self._melodies([self.modules["G_BLEND"]], (1.0,), "mixture", 2 * n, "blend_decoding: candidates")
        rewards = self.reward_object()(seqs).cpu().numpy()
        own = self._decode(seqs)
        fitted = tilt.fit_with_reward(tilt.count_matrices(own[:n], target.names), rewards[:n], target, k,
                                      p.blend_decoding_stats_min_ess, p.blend_decoding_min_ess, cv=p.blend_decoding_rho_cv,
                                      gap_keep=p.blend_decoding_gap_keep, rho_on_held_out=p.blend_decoding_rho_held_out,
                                      held_out=tilt.count_matrices(own[n:], target.names), held_out_rewards=rewards[n:])
        self.log({"stage": "blend_decoding", "phase": "decoding_tilt", **fitted.report})
        self.extra["blend_tilt"] = {"tilt": fitted.to_dict(), "target": target.to_dict()}

    def stage_hybrid_decoding(self):
        """Hybrid's decoding rule (:mod:`fusion.model.hybrid`; docs/method.md, "Hybrid's decoding
        rule"): each Hybrid melody is one of ``hybrid_candidates`` joins of its way round, drawn with
        probability softmax(lambda . phi) among them, (2) of :mod:`fusion.model.tilt` without the
        reward: a tilt toward the midpoint of the genres' training statistics (Blend's decoding
        terms and the melodic intervals), fitted on ``blend_tilt_fit`` joins of the product of
        experts' members G_POE_A and G_POE_B (in groups of one way round each) and checked on as
        many more. With ``hybrid_candidates`` 0, no rule: every join is kept."""
        p = self.preset
        if not p.hybrid_candidates:
            self.log({"stage": "hybrid_decoding", "phase": "off"})
            return
        target = self.decoding_midpoint(intervals=True)
        k, n = p.hybrid_candidates, p.blend_tilt_fit
        groups = 2 * max(n // k, 1)
        models = [self.modules["G_POE_A"], self.modules["G_POE_B"]]
        with torch.no_grad():
            joins = hybrid.pool(models, self.grammar, self.vocab, groups, k, self.ticks, seed=7919 + p.seed)
        half = groups // 2 * k
        fitted = tilt.fit(tilt.count_matrices(joins[:half], target.names), target, k,
                          p.blend_decoding_stats_min_ess, cv=p.blend_decoding_rho_cv,
                          rho_on_held_out=p.blend_decoding_rho_held_out,
                          held_out=tilt.count_matrices(joins[half:], target.names))
        self.log({"stage": "hybrid_decoding", "phase": "decoding_tilt", **fitted.report})
        self.extra["hybrid_tilt"] = {"tilt": fitted.to_dict(), "target": target.to_dict()}

    def reward_object(self) -> blend.Reward:
        """The blend reward of this run's frozen genre critics, as one object (a checkpoint carries it)."""
        return blend.Reward(self.modules["C_A"], self.modules["C_B"], self.calibration(), self.grammar,
                            self.stats_critics(), self.evidence())

    def midpoint(self, cramer: bool = False, transitions: bool = False, rests: bool = False,
                 intervals: bool = False) -> tilt.Target:
        """:func:`genre_midpoint` of this run's data (``blend_tilt_windows`` windows of each genre)."""
        return genre_midpoint(self.data, self.preset.blend_tilt_windows, cramer, transitions, rests, intervals)

    def decoding_midpoint(self, intervals: bool = False) -> tilt.Target:
        """The midpoint the decoding rule (and, with ``blend_pg_tilt``, the policy-gradient reward)
        is tilted toward, with the terms the preset's ``blend_decoding_*`` flags name (and the
        melodic intervals with ``intervals``)."""
        p = self.preset
        return self.midpoint(cramer=p.blend_decoding_cramer, transitions=p.blend_decoding_cramer_transitions,
                             rests=p.blend_decoding_rests, intervals=intervals or p.blend_decoding_intervals)

    def pg_tilt_midpoint(self) -> tilt.Target:
        """The midpoint of the policy-gradient reward's tilt (``blend_pg_tilt``): the decoding
        rule's, with the melodic intervals beside it when ``blend_pg_tilt_intervals`` is on
        (docs/method.md, "Melodic intervals in G_BLEND's reward")."""
        return self.decoding_midpoint(intervals=self.preset.blend_pg_tilt_intervals)

    @torch.no_grad()
    def _melodies(self, models, weights, combine: str, n: int, desc: str) -> torch.Tensor:
        """``n`` melodies (token rows) of ``models``, in batches of 256."""
        batches = [self.fake(models, min(256, n - i), weights, combine) for i in
                   tqdm(range(0, n, 256), desc=desc, disable=not self.progress)]
        return self._stack(batches)

    @torch.no_grad()
    def _joins(self, members, n: int) -> torch.Tensor:
        """``n`` of Hybrid's raw joins of ``members`` (G_POE_A, G_POE_B; no decoding rule), row i
        going way i mod 2 round (jazz rhythm under a folk tune first), as token rows BOS .. EOS
        spanning the run's window, as the training windows are encoded (``blend_teacher_joins``:
        docs/method.md, "Hybrid's joins as Blend's teacher")."""
        joins = hybrid.pool(members, self.grammar, self.vocab, n, 1, self.ticks, seed=104729 + self.preset.seed)
        beats = self.preset.window_beats
        return self.data.pad([self.vocab.encode(m, total_beats=beats, bos_eos=True) for m in joins])

    def _decode(self, seqs: torch.Tensor) -> list:
        return [self.vocab.decode(row) for row in seqs.tolist()]

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
        # G_F learns at fusion_pg_lr with a lighter anchor; G_A and G_B keep the pre-training's
        # settings (at G_F's, the folk generator lost its genre: 91% "neither" in the evaluation)
        gopts = {k: self.gen_opt(g, p.fusion_pg_lr if k == "G_F" else p.pg_lr) for k, g in gens.items()}
        anchor_weights = {"G_F": p.fusion_mle_weight, "G_A": p.pg_mle_weight, "G_B": p.pg_mle_weight}
        nets = {k: rollout.make_rollout_net(g) for k, g in gens.items()}
        start = copy.deepcopy(m["G_F"].state_dict())
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
        self._round_report("fusion", -1, m["G_F"], start)
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
                    rec = self.pg_step(gens[gkey], nets[gkey], gopts[gkey], rewards[gkey], anchor=anchors[gkey],
                                       mle_weight=anchor_weights[gkey])
                    self.log({"stage": "fusion", "phase": "generator", "round": r, "step": step, "model": gkey, **rec})
                    bar.update()
            self._round_report("fusion", r, m["G_F"], start, **{f"w_{k}": v["w"] for k, v in last.items()},
                               **{f"balance_{k}": v["balance"] for k, v in last.items()})
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
