"""The blend reward: a melody earns it only if *both* genre critics accept the *same* melody,
in each of its halves (``docs/method.md``, "Blend").

Two genre critics are trained by Eq. 11: C_A scores real jazz high and real folk and generated
melodies low; C_B the same for folk. Their scores are calibrated on held-out real windows so that
they read as genre acceptances on a common scale (the critics are 1-Lipschitz in their one-hot
input, so an affine map is all it takes):

    a(x) = (C_A(x) - m_A^folk) / (m_A^jazz - m_A^folk)     real folk -> 0, real jazz -> 1
    b(x) = (C_B(x) - m_B^jazz) / (m_B^folk - m_B^jazz)     real jazz -> 0, real folk -> 1

with m_A^jazz the mean score of C_A on real jazz, and so on.

**Equal density** (``docs/method.md``, "Equal density"). Halfway between the genres' mean scores
(a = 1/2) is not where a critic finds a melody equally likely to be jazz or folk: folk is tight
and jazz broad, and each critic's scores spread accordingly. With each genre's scores on the
held-out windows read as a normal distribution N(m^g, s^g), the score at which both densities are
equal (between the means; equal priors) is x0, and u0 its linear acceptance above. The
acceptance is bent there, piecewise linear in the linear acceptance u,

    a = u / (2 u0)                          for u <= u0
      = 1/2 + (u - u0) / (2 (1 - u0))      for u >  u0

so that real folk still reads 0, real jazz 1, and a melody at the critic's equal-density point
1/2 (likewise b for C_B, and the statistics critics). Outside [0, 1] it goes on linearly (a
melody less jazz than real folk keeps a negative acceptance: the realism term below). A
calibration without the spreads (an older checkpoint) keeps u0 = 1/2, the linear map.

The per-piece fusion score is the soft minimum of the two acceptances,

    softmin_tau(a, b) = -tau * log((exp(-a / tau) + exp(-b / tau)) / 2)          (tau = 0.1)

about min(a, b): near 0 for a pure-jazz melody (b ~ 0) and a pure-folk one (a ~ 0), near 1/2 for a
melody that both critics find half their own, low for a melody neither accepts (both critics were
trained with generated melodies as negatives, so the minimum is also a realism term). The reward
of a melody averages it over the whole melody and each of its two halves (split at the middle of
its time span), each calibrated on real windows and real halves:

    R(x) = ( softmin(a, b)[x] + softmin(a, b)[first half] + softmin(a, b)[second half] ) / 3

so a medley (jazz bars, then folk bars) gets little from its halves, and only a melody that blends
both genres all through earns R. Unlike Eq. 4, a 50/50 mixture of pure melodies earns ~0 here:
the reward is per melody, not a sum of expectations.

**Statistics critics.** The TextCNN critics judge a melody by its most telling local motifs;
two more critics (:mod:`fusion.model.stats_critic`, S_A for jazz and S_B for folk) read its global
statistics (note and rest lengths, pitch classes, intervals, density), are calibrated the same
way, and join the soft minimum: ``softmin(a, b, a_S, b_S)``. A melody whose motifs please both
TextCNN critics but whose note lengths belong to neither genre earns little.

**Equal evidence** (optional, preset ``blend_evidence``). The jazz and folk generators' own
acceptances (:mod:`fusion.model.evidence`: 1/2 each where both generators find the melody equally
likely, 0 and 1 at real folk and real jazz) can join the soft minimum of each piece too:
``softmin(a, b, a_S, b_S, j, 1 - j)``. The critics' calibration puts the middle halfway between
the genres' mean scores; the generators' puts it where the genres are equally likely, which for a
tight genre (folk) and a broad one (jazz) lies nearer the tight one.

The automatic judge is never used here (nor in any training or selection).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from fusion.model.acceptance import bend, equal_density  # noqa: F401  (blend.equal_density is public)
from fusion.model.critic import Critic
from fusion.model.grammar import Grammar

TAU = 0.1
PIECES = ("whole", "first", "second")


def halves(seq: torch.Tensor, grammar: Grammar) -> tuple[torch.Tensor, torch.Tensor]:
    """The first and second half of token sequences ``(B, L)`` (BOS .. EOS PAD*), each as a
    sequence BOS .. EOS PAD* of its own: an event (and its duration tokens) goes to the half in
    which it starts; the middle is half of each row's total ticks.

    Parameters
    ----------
    seq : torch.Tensor
        Token ids ``(B, L)``, each row BOS, events with their duration tokens, EOS, PAD.
    grammar : Grammar
        The grammar of the vocabulary (it knows each token's kind and ticks, 12 per beat).

    Returns
    -------
    tuple of (torch.Tensor, torch.Tensor)
        The first and the second half, each ``(B, L')`` with its own length ``L'``. An event
        that starts at or after the middle (``2 * onset >= total``) belongs to the second half.
    """
    vocab = grammar.vocab
    ticks = grammar.ticks[seq]
    before = torch.cumsum(ticks, 1) - ticks  # ticks elapsed before each token
    total = ticks.sum(1, keepdim=True)
    kind_event = grammar._is_event[seq]
    kind_dur = grammar._is_dur[seq]
    onset = torch.where(kind_event, before, torch.full_like(before, -1)).cummax(1).values  # onset of its event
    body = kind_event | kind_dur
    second = onset * 2 >= total
    out = []
    for keep in (body & ~second, body & second):
        order = torch.sort((~keep).to(torch.uint8), dim=1, stable=True).indices
        moved = seq.gather(1, order).masked_fill(~keep.gather(1, order), vocab.pad_id)
        n = keep.sum(1)
        L = int(n.max()) + 2
        piece = torch.full((seq.shape[0], L), vocab.pad_id, dtype=seq.dtype, device=seq.device)
        piece[:, 0] = vocab.bos_id
        piece[:, 1:L - 1] = moved[:, :L - 2]
        piece.scatter_(1, (n + 1)[:, None], vocab.eos_id)
        out.append(piece)
    return out[0], out[1]


def pieces(seq: torch.Tensor, grammar: Grammar) -> dict[str, torch.Tensor]:
    """``{"whole": seq, "first": ..., "second": ...}``: the sequences and their :func:`halves`."""
    first, second = halves(seq, grammar)
    return {"whole": seq, "first": first, "second": second}


def softmin(a: torch.Tensor, b: torch.Tensor, tau: float = TAU) -> torch.Tensor:
    """``-tau log((e^(-a/tau) + e^(-b/tau)) / 2)``: a smooth minimum of two acceptances.

    Parameters
    ----------
    a, b : torch.Tensor
        Acceptances (calibrated critic scores: 0 = the other genre's real music, 1 = its own),
        of broadcastable shapes.
    tau : float, optional
        Temperature (default :data:`TAU` = 0.1): the smaller, the closer to ``min(a, b)``.

    Returns
    -------
    torch.Tensor
        The soft minimum, elementwise; equal to ``a`` when ``a == b`` and never above
        ``min(a, b) + tau * log 2``.
    """
    return softmin_all([a, b], tau)


def softmin_all(values: list[torch.Tensor], tau: float = TAU) -> torch.Tensor:
    """The soft minimum of any number of acceptances, ``-tau log(mean_i exp(-x_i / tau))``
    (:func:`softmin` for two)."""
    x = torch.stack(values)
    return -tau * (torch.logsumexp(-x / tau, dim=0) - torch.log(torch.tensor(float(len(values)))))


@dataclass
class Calibration:
    """Mean score of each genre critic on real jazz and real folk, per piece (whole, halves)."""

    means: dict  # (critic, piece, genre) -> float, critic in {"A", "B"} (and "SA", "SB": statistics critics)

    @classmethod
    @torch.no_grad()
    def fit(cls, critic_a: Critic, critic_b: Critic, jazz: torch.Tensor, folk: torch.Tensor,
            grammar: Grammar, stats: tuple | None = None) -> "Calibration":
        """Calibrate on real token sequences ``jazz`` and ``folk`` (held-out windows).

        Parameters
        ----------
        critic_a, critic_b : Critic
            The jazz critic C_A and the folk critic C_B (put in eval mode).
        jazz, folk : torch.Tensor
            Token ids ``(N, L)`` of real jazz and real folk windows (BOS .. EOS PAD*).
        grammar : Grammar
            The grammar of the vocabulary, to cut the halves.
        stats : tuple of (StatsCritic, StatsCritic), optional
            The statistics critics of jazz and folk (:mod:`fusion.model.stats_critic`), calibrated
            as ``"SA"`` and ``"SB"`` alike.

        Returns
        -------
        Calibration
            ``means[critic, piece, genre]``: the mean raw score of critic ``"A"`` or ``"B"`` (and
            ``"SA"``, ``"SB"``) on the windows' whole / first / second halves of each genre (the
            critic's own units).
        """
        means = {}
        named = [("A", critic_a), ("B", critic_b)] + ([("SA", stats[0]), ("SB", stats[1])] if stats else [])
        for genre, seq in (("jazz", jazz), ("folk", folk)):
            for piece, x in pieces(seq, grammar).items():
                for key, critic in named:
                    critic.eval()
                    s = _scores(critic, x).double()
                    means[key, piece, genre] = float(s.mean())
                    means[key, piece, f"{genre}_sd"] = float(s.std())
        return cls(means)

    def middle(self, critic: str, piece: str) -> float:
        """u0: the linear acceptance (0 at the other genre's mean score, 1 at the critic's own
        genre's) of the score where the two genres' normal score densities are equal (module
        docstring, "Equal density"); 1/2 without the spreads, or where the densities do not cross
        between the means. Kept within [0.05, 0.95]."""
        own, other = ("jazz", "folk") if critic in ("A", "SA") else ("folk", "jazz")
        m = self.means
        if (critic, piece, f"{own}_sd") not in m:
            return 0.5
        x0 = equal_density(m[critic, piece, own], m[critic, piece, f"{own}_sd"],
                           m[critic, piece, other], m[critic, piece, f"{other}_sd"])
        if x0 is None:
            return 0.5
        u0 = (x0 - m[critic, piece, other]) / (m[critic, piece, own] - m[critic, piece, other])
        return float(min(max(u0, 0.05), 0.95))

    def middles(self) -> dict:
        """u0 of every critic and piece (:meth:`middle`), keyed ``"<critic>:<piece>"``."""
        keys = ("A", "B", "SA", "SB") if self.has_stats else ("A", "B")
        return {f"{k}:{p}": round(self.middle(k, p), 4) for k in keys for p in PIECES}

    def acceptances(self, s_a: torch.Tensor, s_b: torch.Tensor, piece: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Jazz acceptance a (real folk 0, real jazz 1) and folk acceptance b (real jazz 0, real folk 1).

        Parameters
        ----------
        s_a, s_b : torch.Tensor
            Raw scores of C_A and C_B on the same melodies.
        piece : {"whole", "first", "second"}
            Which calibration to use.

        Returns
        -------
        tuple of (torch.Tensor, torch.Tensor)
            ``a`` and ``b`` (module docstring); the denominators are at least 1e-6.
        """
        return self._accept(s_a, s_b, piece, "A", "B")

    def stats_acceptances(self, t_a: torch.Tensor, t_b: torch.Tensor, piece: str) -> tuple[torch.Tensor, torch.Tensor]:
        """As :meth:`acceptances`, for the statistics critics' raw scores."""
        return self._accept(t_a, t_b, piece, "SA", "SB")

    @property
    def has_stats(self) -> bool:
        return ("SA", "whole", "jazz") in self.means

    def _accept(self, s_a, s_b, piece: str, ka: str, kb: str):
        m = self.means
        a = (s_a - m[ka, piece, "folk"]) / max(m[ka, piece, "jazz"] - m[ka, piece, "folk"], 1e-6)
        b = (s_b - m[kb, piece, "jazz"]) / max(m[kb, piece, "folk"] - m[kb, piece, "jazz"], 1e-6)
        return bend(a, self.middle(ka, piece)), bend(b, self.middle(kb, piece))

    def separations(self) -> dict:
        """How far each critic scores its own genre above the other, per piece (its raw units;
        positive when the critic tells the genres apart the right way round)."""
        m = self.means
        own = {"A": ("jazz", "folk"), "B": ("folk", "jazz"), "SA": ("jazz", "folk"), "SB": ("folk", "jazz")}
        keys = ("A", "B", "SA", "SB") if self.has_stats else ("A", "B")
        return {f"{k}:{p}": m[k, p, own[k][0]] - m[k, p, own[k][1]] for k in keys for p in PIECES}


def _scores(critic: Critic, seq: torch.Tensor, chunk: int = 1024) -> torch.Tensor:
    return torch.cat([critic(seq[i:i + chunk]) for i in range(0, len(seq), chunk)])


@torch.no_grad()
def reward_parts(critic_a: Critic, critic_b: Critic, calibration: Calibration, seq: torch.Tensor,
                 grammar: Grammar, stats: tuple | None = None, evidence=None) -> dict[str, torch.Tensor]:
    """Per melody: acceptances ``a_<piece>``, ``b_<piece>``, soft minima ``fuse_<piece>`` and the
    reward ``R`` (module docstring), each ``(B,)``.

    Parameters
    ----------
    critic_a, critic_b : Critic
        The jazz critic C_A and the folk critic C_B (put in eval mode).
    calibration : Calibration
        Their means on real jazz and real folk (:meth:`Calibration.fit`).
    seq : torch.Tensor
        Token ids ``(B, L)`` of the melodies (BOS .. EOS PAD*).
    grammar : Grammar
        The grammar of the vocabulary, to cut the halves.
    stats : tuple of (StatsCritic, StatsCritic), optional
        The statistics critics of jazz and folk: their acceptances (``sa_``, ``sb_``) join the
        soft minimum, so a melody must also *sound* like both genres in its global statistics.
    evidence : fusion.model.evidence.Evidence, optional
        The genre generators' equal-evidence acceptances (``j_<piece>``, ``f_<piece>``) join the
        soft minimum too.

    Returns
    -------
    dict of str to torch.Tensor
        Keys ``a_whole``, ``b_whole``, ``fuse_whole`` and the same for ``first`` and ``second``
        (with ``stats``: also ``sa_<piece>``, ``sb_<piece>``), and ``R``, the mean of the three
        ``fuse_`` values; all unitless (acceptance scale) and computed without gradients.
    """
    critics = [critic_a, critic_b, *(stats or ())]
    for c in critics:
        c.eval()
    out = {}
    fuse = []
    generators = evidence.acceptances(seq) if evidence is not None else None
    for piece, x in pieces(seq, grammar).items():
        a, b = calibration.acceptances(_scores(critic_a, x), _scores(critic_b, x), piece)
        out[f"a_{piece}"], out[f"b_{piece}"] = a, b
        accepted = [a, b]
        if stats:
            sa, sb = calibration.stats_acceptances(_scores(stats[0], x), _scores(stats[1], x), piece)
            out[f"sa_{piece}"], out[f"sb_{piece}"] = sa, sb
            accepted += [sa, sb]
        if generators is not None:
            out[f"j_{piece}"], out[f"f_{piece}"] = generators[piece]
            accepted += list(generators[piece])
        out[f"fuse_{piece}"] = softmin_all(accepted)
        fuse.append(out[f"fuse_{piece}"])
    out["R"] = torch.stack(fuse).mean(0)
    return out


def reward(critic_a: Critic, critic_b: Critic, calibration: Calibration, seq: torch.Tensor,
           grammar: Grammar, stats: tuple | None = None, evidence=None) -> torch.Tensor:
    """The blend reward R ``(B,)`` of token sequences (module docstring).

    Parameters
    ----------
    critic_a, critic_b : Critic
        The jazz critic C_A and the folk critic C_B.
    calibration : Calibration
        Their means on real jazz and real folk (:meth:`Calibration.fit`).
    seq : torch.Tensor
        Token ids ``(B, L)`` of the melodies (BOS .. EOS PAD*).
    grammar : Grammar
        The grammar of the vocabulary, to cut the halves.

    Returns
    -------
    torch.Tensor
        ``R`` ``(B,)`` of :func:`reward_parts`: about 0 for pure jazz or pure folk, near 1/2 for
        a melody that both critics find half their own throughout (no gradients).
    """
    return reward_parts(critic_a, critic_b, calibration, seq, grammar, stats, evidence)["R"]


@dataclass
class Reward:
    """The blend reward R as one object: the frozen critics, their calibration and the grammar,
    so that a checkpoint can carry it and score its own candidates at decoding time (Blend's
    decoding rule, :mod:`fusion.model.tilt`, ``docs/method.md``, "Blend's decoding").

    ``stats`` holds the statistics critics (S_A, S_B) or is None; ``evidence`` the genre
    generators' equal-evidence acceptances (:mod:`fusion.model.evidence`) or is None. Calling it on token sequences
    ``(B, L)`` gives R ``(B,)`` (:func:`reward`), in chunks, without gradients.
    """

    critic_a: Critic
    critic_b: Critic
    calibration: Calibration
    grammar: Grammar
    stats: tuple | None = None
    evidence: object = None  # fusion.model.evidence.Evidence

    def __call__(self, seq: torch.Tensor) -> torch.Tensor:
        return reward(self.critic_a, self.critic_b, self.calibration, seq, self.grammar, self.stats, self.evidence)

    def critics(self) -> dict:
        """``{"C_A": ..., "C_B": ..., "S_A": ..., "S_B": ...}`` (the statistics critics if any)."""
        named = {"C_A": self.critic_a, "C_B": self.critic_b}
        if self.stats:
            named.update(S_A=self.stats[0], S_B=self.stats[1])
        return named

    def to_config(self) -> dict:
        """What, besides the weights, a checkpoint needs to rebuild it: the TextCNN critics'
        configuration, the calibration means (``"critic|piece|genre"``) and the soft minimum's tau."""
        out = {"critic": self.critic_a.config.to_dict(), "stats": bool(self.stats), "tau": TAU,
               "calibration": {"|".join(k): v for k, v in self.calibration.means.items()}}
        if self.evidence is not None:
            out["evidence"] = self.evidence.to_config()
        return out

    def tensors(self, prefix: str = "reward.") -> dict[str, torch.Tensor]:
        """The critics' weights, keyed ``<prefix><critic>.<parameter>`` (for safetensors), and the
        equal-evidence generators' as ``<prefix>evidence.G_A.<parameter>`` (if any)."""
        out = {f"{prefix}{name}.{k}": v.detach().cpu().contiguous()
               for name, m in self.critics().items() for k, v in m.state_dict().items()}
        if self.evidence is not None:
            out.update(self.evidence.tensors(f"{prefix}evidence."))
        return out

    @classmethod
    def from_checkpoint(cls, config: dict, tensors: dict[str, torch.Tensor], grammar: Grammar,
                        prefix: str = "reward.") -> "Reward":
        """Rebuild from :meth:`to_config` and :meth:`tensors` (critics in eval mode)."""
        from fusion.model.critic import CriticConfig
        from fusion.model.stats_critic import StatsCritic

        ccfg = dict(config["critic"])
        ccfg["widths"] = tuple(ccfg["widths"])
        made = {}
        for name in ("C_A", "C_B") + (("S_A", "S_B") if config["stats"] else ()):
            m = Critic(CriticConfig(**ccfg), pad_id=grammar.vocab.pad_id) if name.startswith("C") else StatsCritic(grammar)
            head = f"{prefix}{name}."
            m.load_state_dict({k[len(head):]: v for k, v in tensors.items() if k.startswith(head)})
            made[name] = m.eval()
        cal = Calibration({tuple(k.split("|")): float(v) for k, v in config["calibration"].items()})
        stats = (made["S_A"], made["S_B"]) if config["stats"] else None
        ev = None
        if config.get("evidence"):
            from fusion.model.evidence import Evidence

            ev = Evidence.from_checkpoint(config["evidence"], tensors, grammar, f"{prefix}evidence.")
        return cls(made["C_A"], made["C_B"], cal, grammar, stats, ev)
