"""The one table of systems: every generator the project trains, samples, evaluates and plays.

Each :class:`Spec` says what a system is called (``name`` on the command line and in files,
``label`` in the demo, ``short`` in tables), which ``group`` it belongs to, which trainer modules
its checkpoint holds and which training stages make them (``fusion/model/train.py``), and what it is.
The demo, the evaluation, the report, training, export and the listening test all derive their
lists from :data:`SPECS`; adding a system is one record here plus its training stage.

Groups:

* ``paper``    -- the paper's method (FusionGAN's G_F);
* ``new``      -- this project's fusing systems beyond the paper (``blend``; ``cross`` and ``hybrid``,
  which need no training);
* ``baseline`` -- the paper's baselines (RM, MC, MLE, GAN, RL) and the zero-training baselines a
  fusing system must beat (product of experts, MLE at its tuned temperature);
* ``genre``    -- generators of one genre (G_A, G_B after fusion training);
* ``real``     -- held-out real melodies, the controls (no checkpoint): excerpts of one genre, and
  fusions made of real excerpts by :mod:`fusion.evaluation.controls` (medleys and hybrids, the positive controls).
"""
from __future__ import annotations

from dataclasses import dataclass

GROUPS = ("paper", "new", "baseline", "genre", "real")

# training stages shared by several systems (fusion/model/train.py runs them in STAGES order)
_SOURCES = ("mle_jazz", "mle_folk", "adv_jazz", "adv_folk")
_GENRE_CRITICS = (*_SOURCES, "mle_fusion", "genre_critics")


@dataclass(frozen=True)
class Spec:
    """One system of the project (module docstring)."""

    name: str
    label: str
    short: str
    group: str
    description: str
    modules: tuple[str, ...] = ()  # trainer modules stored in the checkpoint (members, in order)
    stages: tuple[str, ...] = ()  # training stages that make them
    critics: tuple[str, ...] = ()  # critic estimates (Trainer.extra["final"] keys) on the model card
    listening_test: bool = False  # in the crowd test's clip pool
    control: str = ""  # a real control's kind: "jazz" or "folk" (excerpts), "medley" or "hybrid" (fusion.evaluation.controls)

    @property
    def trained(self) -> bool:
        return self.group != "real"

    @property
    def neural(self) -> bool:
        return bool(self.modules)


SPECS: tuple[Spec, ...] = (
    Spec("rm", "RM baseline", "RM", "baseline",
         "RM baseline: pitches/rests and durations drawn uniformly from the values seen in jazz + folk",
         stages=("baselines",), listening_test=True),
    Spec("mc", "MC baseline", "MC", "baseline",
         "MC baseline: pitches/rests and durations drawn from their frequencies in jazz + folk",
         stages=("baselines",), listening_test=True),
    Spec("mle", "MLE baseline", "MLE", "baseline",
         "MLE baseline: one LSTM trained by maximum likelihood on jazz + folk",
         modules=("G_MLE",), stages=("mle_fusion",), critics=("critic_fusion:D_F",), listening_test=True),
    Spec("mle_t", "MLE at tuned temperature", "MLE (tuned T)", "baseline",
         "MLE baseline sampled at the temperature that maximises the critics' per-melody fusion score "
         "(no training beyond MLE; temperature chosen with the genre critics, never the judge)",
         modules=("G_MLE",), stages=(*_GENRE_CRITICS, "mle_temp"), critics=("genre_critics:C_A", "genre_critics:C_B"),
         listening_test=True),
    Spec("gan", "GAN baseline", "GAN", "baseline",
         "GAN baseline: one SeqGAN (Wasserstein critic) on jazz + folk",
         modules=("G_GAN",), stages=("mle_fusion", "gan"), critics=("gan:D_GAN",), listening_test=True),
    Spec("rl", "RL baseline", "RL", "baseline",
         "RL baseline: jazz generator rewarded by the folk critic and folk generator rewarded by the jazz "
         "critic; each melody from one of the two",
         modules=("G_RL_A", "G_RL_B"), stages=(*_SOURCES, "rl"), critics=("rl:D_RL_B", "rl:D_RL_A"),
         listening_test=True),
    Spec("poe", "Product of experts (G_A x G_B)", "PoE", "baseline",
         "Product-of-experts decoding, no training: every token drawn from p_A^w p_B^(1-w) of the "
         "pre-trained jazz and folk generators under the grammar, w chosen with the genre critics",
         modules=("G_POE_A", "G_POE_B"), stages=(*_GENRE_CRITICS, "poe"),
         critics=("genre_critics:C_A", "genre_critics:C_B"), listening_test=True),
    Spec("fusion", "Fusion (FusionGAN, the paper)", "Fusion", "paper",
         "FusionGAN generator G_F: MLE on jazz + folk, then three-critic fusion training (Algorithm 1, Eq. 4)",
         modules=("G_F",), stages=(*_SOURCES, "mle_fusion", "critic_fusion", "fusion"),
         critics=("fusion:D_F", "fusion:D_F:balance", "fusion:D_A", "fusion:D_B"), listening_test=True),
    Spec("blend", "Blend (fuses within each melody)", "Blend", "new",
         "Blend generator: warm-started on product-of-experts melodies, then policy gradient with a per-melody "
         "reward that both genre critics must give the same melody, in each half; each melody is one of 64 "
         "candidates, drawn by a tilt toward a higher reward and the midpoint of the genres' statistics "
         "(docs/method.md, 'Blend')",
         modules=("G_BLEND",), stages=(*_GENRE_CRITICS, "poe", "blend", "blend_decoding"),
         critics=("genre_critics:C_A", "genre_critics:C_B"), listening_test=True),
    Spec("cross", "Cross (one genre's rhythm, the other's pitches)", "Cross", "new",
         "Crossed aspects, no training: the rhythm of each melody from one pre-trained genre generator and "
         "its pitches from the other (half the melodies jazz rhythm under folk pitches, half the reverse); "
         "no free parameter (docs/method.md, 'Crossed aspects')",
         modules=("G_POE_A", "G_POE_B"), stages=(*_GENRE_CRITICS, "poe")),
    Spec("hybrid", "Hybrid (one genre's tune on the other's rhythm)", "Hybrid", "new",
         "Hybrid, no training: a melody of one pre-trained genre generator gives the rhythm, a melody of the "
         "other the pitches, each written by its own model alone and joined note by note (half the melodies jazz "
         "rhythm under a folk tune, half the reverse); each melody is one of 64 such joins, drawn by a tilt toward "
         "the midpoint of the genres' statistics (docs/method.md, 'Hybrid', 'Hybrid's decoding rule')",
         modules=("G_POE_A", "G_POE_B"), stages=(*_GENRE_CRITICS, "poe", "hybrid_decoding"), listening_test=True),
    Spec("jazz", "Jazz generator (G_A)", "G_A (jazz)", "genre",
         "Jazz generator G_A after fusion training (Eq. 14)",
         modules=("G_A",), stages=(*_SOURCES, "mle_fusion", "critic_fusion", "fusion"),
         critics=("adv_jazz:D_A", "fusion:D_A", "fusion:D_A:balance")),
    Spec("folk", "Folk generator (G_B)", "G_B (folk)", "genre",
         "Folk generator G_B after fusion training (Eq. 14)",
         modules=("G_B",), stages=(*_SOURCES, "mle_fusion", "critic_fusion", "fusion"),
         critics=("adv_folk:D_B", "fusion:D_B", "fusion:D_B:balance")),
    Spec("real jazz", "Real jazz (held-out excerpt)", "real jazz", "real",
         "Held-out real jazz windows (test or validation split), the control", listening_test=True,
         control="jazz"),
    Spec("real folk", "Real folk (held-out excerpt)", "real folk", "real",
         "Held-out real folk windows (test or validation split), the control", listening_test=True,
         control="folk"),
    Spec("real medley", "Real medley (half jazz, half folk)", "real medley", "real",
         "A fusion in time made of held-out real music, no model: the first half of an excerpt of one genre, then "
         "the second half of an excerpt of the other (half the melodies jazz first); the positive control "
         "(docs/method.md, 'Positive controls')", listening_test=True, control="medley"),
    Spec("real hybrid", "Real hybrid (real tune on real rhythm)", "real hybrid", "real",
         "A fusion in aspect made of held-out real music, no model: the rhythm of an excerpt of one genre carrying "
         "the pitches of a tune of the other, joined note by note as Hybrid joins its generators' lines (half the "
         "melodies jazz rhythm under a folk tune); the positive control (docs/method.md, 'Positive controls')",
         listening_test=True, control="hybrid"),
)

BY_NAME: dict[str, Spec] = {s.name: s for s in SPECS}
#: systems with a checkpoint, in table order
TRAINED: tuple[str, ...] = tuple(s.name for s in SPECS if s.trained)
#: the real-music controls, in table order
REAL: tuple[str, ...] = tuple(s.name for s in SPECS if s.group == "real")
#: the real controls' kinds by name: "real jazz" -> "jazz", ..., "real hybrid" -> "hybrid"
CONTROL_KINDS: dict[str, str] = {s.name: s.control for s in SPECS if s.group == "real"}
#: the controls of one genre (real excerpts), and the fusions made of them (medleys, hybrids)
GENRE_CONTROLS: tuple[str, ...] = tuple(n for n, k in CONTROL_KINDS.items() if k in ("jazz", "folk"))
FUSION_CONTROLS: tuple[str, ...] = tuple(n for n, k in CONTROL_KINDS.items() if k not in ("jazz", "folk"))
#: the systems a fusing system is compared with
BASELINES: tuple[str, ...] = tuple(s.name for s in SPECS if s.group == "baseline")
#: the single-model LSTM systems whose next-token distributions can be mixed
NEURAL: tuple[str, ...] = tuple(s.name for s in SPECS if s.neural)
#: generated systems in the listening test's clip pool, and its real controls
LISTENING_SYSTEMS: tuple[str, ...] = tuple(s.name for s in SPECS if s.listening_test and s.trained)
#: the fusing systems the per-melody measures are headlined for
FUSING: tuple[str, ...] = tuple(s.name for s in SPECS if s.group in ("paper", "new"))
#: the system at the midpoint of the demo's fusion slider (jazz at -1, folk at +1): Blend, the
#: best-fusing single generator of reports/evaluation.md (the highest mixture share of the systems
#: that are one LSTM, whose next-token distribution the slider can mix). Hybrid fuses more often by
#: the judge, but it joins two generators' melodies and has no next-token distribution to mix
#: (docs/method.md, "Hybrid"; it was decided beforehand not to move the midpoint by the judge)
SLIDER_MIDPOINT = "blend"


def spec(name: str) -> Spec:
    """The record of system ``name``; a ValueError naming the choices if there is none."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown system {name!r}; choose from {', '.join(BY_NAME)}") from None


def label(name: str) -> str:
    return BY_NAME[name].label if name in BY_NAME else name


def short(name: str) -> str:
    return BY_NAME[name].short if name in BY_NAME else name


def order(names) -> list[str]:
    """``names`` in table order (unknown names last, in their order)."""
    rank = {s.name: i for i, s in enumerate(SPECS)}
    return sorted(names, key=lambda n: rank.get(n, len(rank)))
