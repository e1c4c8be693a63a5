"""The published numbers of the paper (Table I and Table II, as printed) and its Fusion Level.

These are the paper's results, kept to be shown *beside* ours (``reports/evaluation.md``, the
results page of the listening test); nothing of ours is computed from them except the checks that
the Fusion Level formula reproduces the printed values.
"""
from __future__ import annotations

#: Table I, Ratio columns (the comparable ones: the paper's Diff is on unnormalised counts).
#: system -> {(feature, metric): ratio}
TABLE_I_RATIO = {
    "rm": {("dd", "eud"): 1.375, ("dd", "em"): 1.461, ("npd", "eud"): 1.647, ("npd", "em"): 1.643},
    "mle": {("dd", "eud"): 1.231, ("dd", "em"): 1.335, ("npd", "eud"): 1.526, ("npd", "em"): 1.510},
    "gan": {("dd", "eud"): 1.233, ("dd", "em"): 1.345, ("npd", "eud"): 1.555, ("npd", "em"): 1.504},
    "rl": {("dd", "eud"): 1.358, ("dd", "em"): 1.439, ("npd", "eud"): 1.559, ("npd", "em"): 1.541},
    "mc": {("dd", "eud"): 1.132, ("dd", "em"): 1.215, ("npd", "eud"): 1.369, ("npd", "em"): 1.327},
    "fusion": {("dd", "eud"): 1.183, ("dd", "em"): 1.306, ("npd", "eud"): 1.382, ("npd", "em"): 1.391},
}

#: Table II in percent: fusion recognition (jazz, folk, mixture, neither), the printed Fusion
#: Level, and musicality (expert, newbie, robot).
TABLE_II = {
    "rm": dict(jazz=25.0, folk=22.5, mixture=12.5, neither=40.0, fl=57.5, expert=22.5, newbie=50.0, robot=27.5),
    "mle": dict(jazz=43.6, folk=9.1, mixture=30.9, neither=16.4, fl=49.1, expert=45.5, newbie=21.8, robot=32.7),
    "gan": dict(jazz=34.0, folk=17.0, mixture=26.0, neither=14.0, fl=69.0, expert=42.0, newbie=32.0, robot=26.0),
    "rl": dict(jazz=20.1, folk=28.3, mixture=20.8, neither=30.8, fl=61.0, expert=32.1, newbie=37.7, robot=30.2),
    "mc": dict(jazz=32.0, folk=2.0, mixture=14.0, neither=52.0, fl=16.0, expert=30.0, newbie=36.0, robot=34.0),
    "fusion": dict(jazz=35.9, folk=25.0, mixture=20.0, neither=19.1, fl=70.0, expert=43.8, newbie=28.1, robot=28.1),
}

#: Two printed inconsistencies, kept as printed: MC's FL recomputes to 18, not 16; GAN's four
#: answer shares sum to 91%, and its FL of 69 is the formula with 100 as the denominator.

#: The four answers of the fusion-recognition question, in the paper's order.
LABELS = ("jazz", "folk", "mixture", "neither")


def fusion_level(jazz: float, folk: float, mixture: float, neither: float) -> float:
    """FL = 1 - (|C_jazz - C_folk| + C_neither) / (C_jazz + C_folk + C_mixture + C_neither).

    1 when no listener says "neither" and "pure jazz" and "pure folk" are equally frequent; counts
    or percentages alike (the formula is scale-free). Returned as a fraction (the paper prints
    percent)."""
    total = jazz + folk + mixture + neither
    if total <= 0:
        raise ValueError("fusion level of no answers")
    return 1.0 - (abs(jazz - folk) + neither) / total
