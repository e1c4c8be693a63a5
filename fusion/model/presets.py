"""Training presets: every size and schedule of a training run in one frozen record.

``paper`` is the configuration the committed checkpoints come from (sizes chosen by validation
likelihood, ``scripts/size_sweep.py``; schedule scaled so that the whole run fits in 90 minutes on
a 2-core CPU, see ``docs/method.md``); ``smoke`` runs every stage on a tiny slice of the data in
well under a minute, for the tests.

Schedule vocabulary (Algorithm 1): ``mle_steps`` teacher-forced batches per generator;
``critic_pre_steps`` critic batches before the adversarial loop; an adversarial *round* is
``g_steps`` policy-gradient steps followed by ``d_steps`` critic steps, each on a fresh batch of
generated melodies.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from fusion.model.critic import CriticConfig
from fusion.model.generator import GeneratorConfig


@dataclass(frozen=True)
class Preset:
    name: str
    generator: GeneratorConfig = GeneratorConfig()
    critic: CriticConfig = CriticConfig()
    window_limit: int | None = None  # smoke: first N windows per genre and split
    max_tokens: int = 200  # training windows longer than this (0.9% of jazz windows) are skipped
    batch: int = 64
    # MLE (Algorithm 1, steps 2 and 3)
    mle_steps: dict = field(default_factory=lambda: {"jazz": 2000, "folk": 2000, "fusion": 3000})
    mle_lr: float = 3e-3
    eval_every: int = 250
    # critics
    critic_lr: float = 2e-4
    critic_pre_steps: int = 200
    gp_lambda: float = 10.0
    drift: float = 1e-3
    balance_beta: float = 1.0
    # policy gradient
    pg_lr: float = 1e-4
    pg_mle_weight: float = 1.0  # MLE anchor on the generator's own data in every PG step
    pg_batch: int = 32
    n_prefixes: int = 4
    n_rollouts: int = 4
    rollout_keep: float = 0.8
    # adversarial pre-training per source, GAN and RL baselines
    adv_rounds: int = 5
    adv_g_steps: int = 20
    adv_d_steps: int = 20
    # fusion (Algorithm 1, step 4)
    fusion_rounds: int = 10
    fusion_g_steps: int = 15
    fusion_d_steps: int = 5
    fusion_pg_lr: float = 3e-4  # G_F's: three times pg_lr, the first run's G_F hardly moved (docs/method.md)
    fusion_mle_weight: float = 0.5  # G_F's anchor; G_A and G_B keep pg_lr and pg_mle_weight
    # genre critics C_A, C_B (Eq. 11) and their calibration (fusion.model.blend)
    genre_critic_steps: int = 300
    # statistics critics S_A, S_B (fusion.model.stats_critic): trained by Eq. 11 from scratch beside
    # C_A, C_B; their acceptances join the blend reward's soft minimum (0: the reward without them)
    genre_critic_stats_steps: int = 600
    negatives_pool: int = 1024  # generated melodies per generator (G_A, G_B, MLE) the genre critics see
    # ... sampled at these temperatures alike: a critic must also reject the noisier melodies a
    # hotter generator writes, or a reward built on it pays for noise (docs/method.md, "Blend")
    negative_temperatures: tuple = (1.0, 1.6)
    calibration_windows: int = 1000  # held-out windows per genre
    # choices made with the blend reward of the genre critics (never with the judge)
    select_samples: int = 256
    poe_weights: tuple = (0.3, 0.4, 0.5, 0.6, 0.7)
    mle_temperatures: tuple = (0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5)
    temperature_nll_tolerance: float = 0.05  # nats/token above the best temperature's validation NLL
    # blend
    blend_teacher: int = 16384  # product-of-experts melodies: warm start and MLE anchor, tilted
    blend_warm_steps: int = 600
    blend_rounds: int = 16  # R still rose in the last of 8 rounds (0.26 -> 0.28): not converged
    blend_g_steps: int = 25
    blend_lr: float = 1e-4
    blend_mle_weight: float = 0.5
    # the genre generators' equal-evidence acceptances join Blend's reward (fusion.model.evidence;
    # policy gradient, round reports, decoding rule and checkpoint; docs/method.md, "Equal evidence")
    blend_evidence: bool = True
    # the midpoint of the genres' statistics (fusion.model.tilt): the teacher is tilted toward it,
    # and Blend keeps one of ``blend_candidates`` melodies by a tilt fitted on its own melodies
    blend_tilt_windows: int = 8192  # training windows per genre that measure the midpoint
    # ... and the teacher's tilt also toward the midpoint of the rest lengths between notes
    # (fusion.features.REST): G_BLEND learns from its teacher how long to pause (docs/method.md,
    # "A teacher that pauses like the midpoint")
    blend_teacher_rests: bool = False
    # ... and toward the two-dimensional Cramer term (1c) of the IOI-class transitions
    # (fusion.model.tilt.Target.between(transitions=True)): G_BLEND learns its rhythm's sequence
    # from a teacher that matches where the transitions stand, not only bin by bin
    # (docs/method.md, "Rhythm transitions in the teacher and the rule")
    blend_teacher_transitions: bool = False
    # the teacher is Hybrid's raw joins of G_POE_A and G_POE_B (one genre's rhythm under the
    # other's tune, half each way round) instead of product-of-experts melodies; tilted alike
    # (docs/method.md, "Hybrid's joins as Blend's teacher")
    blend_teacher_joins: bool = False
    # each policy-gradient round, a tilt (1) toward the decoding rule's midpoint is fitted on
    # ``blend_pg_tilt_melodies`` of G_BLEND's melodies and joins the round's reward as
    # ``blend_pg_tilt`` x sd(R) x lambda . phi (0: off; docs/method.md, "The midpoint in G_BLEND's reward")
    blend_pg_tilt: float = 0.0
    blend_pg_tilt_melodies: int = 1024
    # ... toward the melodic intervals' midpoint too (docs/method.md, "Melodic intervals in G_BLEND's reward")
    blend_pg_tilt_intervals: bool = False
    blend_tilt_fit: int = 8192  # Blend melodies the decoding tilt is fitted on (and a quarter more held out)
    blend_candidates: int = 64  # candidates per melody of Blend's decoding rule (blend_decoding)
    blend_tilt_min_ess: float = 0.25  # the teacher's tilt keeps a quarter of its pool effective
    # the decoding rule's statistics' tilt alone keeps this share of the candidates effective ...
    blend_decoding_stats_min_ess: float = 0.25
    # ... and with the reward's part (fusion.model.tilt, (2)) this share: at least 8 of 64
    blend_decoding_min_ess: float = 0.125
    # ... and the statistics' rho by two-fold cross-validation of (1) on those melodies (the
    # smallest rho that keeps a quarter effective fitted the pitch-class transitions of the
    # fitting sample and moved a held-out sample's away: 0.17 -> 0.20; docs/method.md)
    blend_decoding_rho_cv: bool = True
    # ... or, instead, on the stage's other blend_tilt_fit held-out candidates (docs/method.md,
    # "Choosing rho on the held-out candidates")
    blend_decoding_rho_held_out: bool = False
    # ... and, for the features with ordered bins (DD, NPD), the Cramer distance (1b) beside (1):
    # Table I's EM columns read where the bins stand, which (1)'s Euclidean term does not (on since
    # 2026-12-05: scripts/decoding_fit.py measures both; docs/method.md)
    blend_decoding_cramer: bool = True
    # ... and, for the transition grids with ordered axes (IOI-class transitions), its
    # two-dimensional form (1c) (fusion.model.tilt.Target.between)
    blend_decoding_cramer_transitions: bool = False
    # ... and the rest lengths between notes (fusion.features.REST) beside the four features
    blend_decoding_rests: bool = False
    # ... and the melodic intervals (fusion.features.INTERVAL, with their (1b)) beside the four
    # (docs/method.md, "Melodic intervals in the rule")
    blend_decoding_intervals: bool = False
    # ... and the reward's weight beta no larger than leaves this share of what the statistics'
    # tilt alone took off the summed gaps (0: off; docs/method.md, "A floor on the rule's statistics")
    blend_decoding_gap_keep: float = 0.0
    # Hybrid's decoding rule: each Hybrid melody one of ``hybrid_candidates`` joins of its way round,
    # chosen by a tilt toward the genres' midpoint fitted on ``blend_tilt_fit`` joins (and as many held
    # out), with the melodic intervals beside Blend's decoding terms (0: no rule, every join kept;
    # docs/method.md, "Hybrid's decoding rule")
    hybrid_candidates: int = 0
    window_beats: int = 16
    # training windows only where they end by the piece's end (fusion.data.corpus.Settings): on in
    # ``paper`` since 2026-12-05; padded windows taught every generator to pause for a bar
    # mid-melody (docs/method.md, "Long silences", "Whole windows")
    whole_windows: bool = False
    seed: int = 0

    def stages_reading(self, key: str) -> tuple[str, ...] | None:
        """The training stages that read setting ``key`` (None: possibly every stage)."""
        for prefix, stages in LATE_SETTINGS.items():
            if key.startswith(prefix):
                return stages
        return None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["generator"] = self.generator.to_dict()
        d["critic"] = self.critic.to_dict()
        for key in ("poe_weights", "mle_temperatures", "negative_temperatures"):
            d[key] = list(d[key])
        return d


#: settings (by name prefix) read only by the stages after the paper's pre-training: a run that
#: has not reached those stages resumes under a preset that changes them
LATE_SETTINGS = {
    "genre_critic": ("genre_critics",), "negative": ("genre_critics",), "calibration": ("genre_critics",),
    "select_samples": ("poe", "mle_temp", "blend"), "poe_": ("poe",), "mle_temperatures": ("mle_temp",), "temperature_nll": ("mle_temp",),
    "blend_candidates": ("blend_decoding",), "blend_tilt_fit": ("blend_decoding", "hybrid_decoding"),
    # Hybrid's rule reads the decoding midpoint's terms and the statistics tilt's settings, not the
    # reward's floors nor the intervals flag (it always takes the intervals)
    "blend_decoding_cramer": ("blend_decoding", "hybrid_decoding"), "blend_decoding_rests": ("blend_decoding", "hybrid_decoding"),
    "blend_decoding_stats_min_ess": ("blend_decoding", "hybrid_decoding"), "blend_decoding_rho_": ("blend_decoding", "hybrid_decoding"),
    "blend_decoding_": ("blend_decoding",), "blend_tilt_min_ess": ("blend",),
    "blend_tilt_windows": ("blend", "blend_decoding", "hybrid_decoding"), "hybrid_": ("hybrid_decoding",),
    "blend_": ("blend",), "fusion_": ("fusion",),
}

PRESETS = {
    "paper": Preset(
        name="paper",
        generator=GeneratorConfig(embed=64, hidden=128),
        critic=CriticConfig(embed=32, widths=(1, 2, 3, 4, 5, 6, 8, 10, 15, 20), filters=24),
        whole_windows=True,
        # (1c) on the IOI-class transitions in Blend's teacher and in its decoding rule, adopted
        # 2026-12-06 (docs/method.md, "Rhythm transitions in the teacher and the rule")
        blend_teacher_transitions=True, blend_decoding_cramer_transitions=True,
        # the midpoint's tilt in G_BLEND's policy-gradient reward, adopted 2026-12-06
        # (docs/method.md, "The midpoint in G_BLEND's reward")
        blend_pg_tilt=1 / 3,
        # the decoding rule keeps at least half of its statistics' gain against the reward,
        # 2026-12-07 (docs/method.md, "A floor on the rule's statistics")
        blend_decoding_gap_keep=0.5,
        # ... and its rho chosen on the stage's held-out candidates, 2026-12-07 (docs/method.md,
        # "Choosing rho on the held-out candidates")
        blend_decoding_rho_held_out=True,
        # Hybrid's decoding rule, 2026-12-07 (docs/method.md, "Hybrid's decoding rule")
        hybrid_candidates=64,
    ),
    "smoke": Preset(
        name="smoke",
        generator=GeneratorConfig(embed=16, hidden=16),
        critic=CriticConfig(embed=8, widths=(1, 2, 4), filters=4),
        window_limit=64, batch=16,
        mle_steps={"jazz": 20, "folk": 20, "fusion": 20}, eval_every=10,
        critic_pre_steps=3, pg_batch=4, n_prefixes=2, n_rollouts=2,
        adv_rounds=1, adv_g_steps=2, adv_d_steps=2,
        fusion_rounds=1, fusion_g_steps=2, fusion_d_steps=2,
        genre_critic_steps=4, genre_critic_stats_steps=4, negatives_pool=16, calibration_windows=16, select_samples=8,
        poe_weights=(0.4, 0.6), mle_temperatures=(0.8, 1.0),
        blend_teacher=32, blend_warm_steps=3, blend_rounds=1, blend_g_steps=2,
        blend_tilt_windows=32, blend_tilt_fit=32, blend_candidates=4, blend_decoding_min_ess=0.3,
        blend_pg_tilt_melodies=16, blend_decoding_gap_keep=0.5, blend_decoding_rho_held_out=True,
        hybrid_candidates=4,
    ),
}
#: the paper preset as shipped on 2026-12-06 before the midpoint's tilt entered G_BLEND's
#: policy-gradient reward: the flag-off side of that measurement (docs/method.md, "The midpoint in
#: G_BLEND's reward")
PRESETS["paper_before_pg_tilt"] = replace(PRESETS["paper"], name="paper_before_pg_tilt", blend_pg_tilt=0.0,
                                          blend_decoding_gap_keep=0.0, blend_decoding_rho_held_out=False,
                                          hybrid_candidates=0)
#: the paper preset as shipped from 2026-12-05 to 2026-12-06, before (1c) on the IOI-class
#: transitions entered Blend's teacher and decoding rule: the flag-off side of that measurement
PRESETS["paper_before_transitions"] = replace(PRESETS["paper_before_pg_tilt"], name="paper_before_transitions",
                                              blend_teacher_transitions=False, blend_decoding_cramer_transitions=False)
#: the paper preset as shipped before 2026-12-05, on windows padded past the piece's end with a
#: final rest: kept for scripts/window_padding_check.py and for resuming runs made with it
PRESETS["paper_padded_windows"] = replace(PRESETS["paper_before_transitions"], name="paper_padded_windows",
                                          whole_windows=False)
#: the paper preset with Blend's teacher tilted toward the rest lengths' midpoint too: measured
#: against ``paper_before_transitions`` on the same pre-training and not adopted (docs/method.md,
#: "A teacher that pauses like the midpoint"); kept to reproduce that measurement
PRESETS["paper_teacher_rests"] = replace(PRESETS["paper_before_transitions"], name="paper_teacher_rests",
                                         blend_teacher_rests=True)
#: the name the adopted (1c) Blend was trained under (the settings of ``paper_before_pg_tilt``):
#: kept to reproduce that measurement and resume its run (docs/method.md, "Rhythm transitions in
#: the teacher and the rule")
PRESETS["paper_transitions"] = replace(PRESETS["paper_before_pg_tilt"], name="paper_transitions")
#: the name the adopted Blend with the midpoint's tilt in its reward was trained under (the
#: settings of ``paper`` before the floor on the decoding rule's statistics; docs/method.md, "The
#: midpoint in G_BLEND's reward"): kept to reproduce that measurement and resume its run
PRESETS["paper_pg_tilt"] = replace(PRESETS["paper"], name="paper_pg_tilt", blend_decoding_gap_keep=0.0,
                                   blend_decoding_rho_held_out=False)
#: the midpoint's tilt in G_BLEND's reward at three times the adopted weight (c = sd(R)): the
#: flag's one further test (docs/method.md, "A heavier midpoint in G_BLEND's reward")
PRESETS["paper_pg_tilt_1"] = replace(PRESETS["paper_pg_tilt"], name="paper_pg_tilt_1", blend_pg_tilt=1.0)
#: the midpoint's tilt in G_BLEND's reward with the melodic intervals in it (the decoding rule
#: unchanged): docs/method.md, "Melodic intervals in G_BLEND's reward"
PRESETS["paper_pg_tilt_intervals"] = replace(PRESETS["paper"], name="paper_pg_tilt_intervals", blend_pg_tilt_intervals=True,
                                             blend_decoding_rho_held_out=False)
#: the paper preset with the decoding rule's rho chosen on the stage's held-out candidates: the
#: flag-on side of docs/method.md, "Choosing rho on the held-out candidates", adopted the same day
#: (now the settings of ``paper``), and the two rejected Blends measured with it
PRESETS["paper_rho_held_out"] = replace(PRESETS["paper"], name="paper_rho_held_out", blend_decoding_rho_held_out=True)
PRESETS["paper_pg_tilt_1_rho_held_out"] = replace(PRESETS["paper_pg_tilt_1"], name="paper_pg_tilt_1_rho_held_out",
                                                  blend_decoding_gap_keep=0.5, blend_decoding_rho_held_out=True)
PRESETS["paper_pg_tilt_intervals_rho_held_out"] = replace(PRESETS["paper_pg_tilt_intervals"],
                                                          name="paper_pg_tilt_intervals_rho_held_out",
                                                          blend_decoding_rho_held_out=True)
#: the paper preset with Hybrid's joins as Blend's teacher: docs/method.md, "Hybrid's joins as
#: Blend's teacher" (measured, not adopted)
PRESETS["paper_joins_teacher"] = replace(PRESETS["paper"], name="paper_joins_teacher", blend_teacher_joins=True)
