"""A third instrument on "where between the genres is a melody?": the jazz and folk generators'
own likelihoods (no critic, no judge in the opinion itself).

For a melody x of tokens x_1..x_T, the genre generators G_A (jazz) and G_B (folk) give each token
a log-likelihood ratio d_t = log p_A(x_t | x_<t) - log p_B(x_t | x_<t) (the grammar-masked
distributions they sample from). Its mean over a set of tokens, mapped so that the mean of real
jazz training windows is +1 and that of real folk training windows is -1,

    o(x) = (mean_t d_t - m) / h,   m = (mean_jazz + mean_folk) / 2,   h = (mean_jazz - mean_folk) / 2

is the generators' opinion: +1 "as jazz as real jazz", -1 "as folk as real folk", 0 the midpoint.
It is taken over the whole melody, over its pitch tokens and its duration tokens (aspects) and
over its two halves (time), like the judge's four partial opinions. The calibration reads only
training windows; no model is trained or selected here.

For each row (real test windows of each genre, known mixtures made of them -- splices in time and
hybrids in aspect, and the systems' melodies as ``python -m fusion evaluate`` samples them: 500
melodies of 4 bars, seed 0) the script prints the mean opinions, the share the generators place
between the genres (|o_whole| <= 1/2), and the automatic judge's labels and mean P(jazz) of the
same melodies, and the blend reward R of the same melodies (the genre critics and calibration
shipped in Blend's checkpoint; 0 for one genre, about 1/2 for a melody both accept); then, for
Blend, the judge's labels by the generators' opinion of the whole melody.

Last, the judge itself at the middle of its own feature space (real training windows only):
P(jazz) of its whole-melody, pitch-only and rhythm-only classifiers at t * mean_jazz + (1 - t) *
mean_folk of the windows' feature vectors (``judge.describe``), the t at which each crosses 1/2,
and the share each calls jazz among feature vectors averaged from one random jazz and one random
folk window.

``--groups G`` adds a decoding check: G groups of k candidates of Blend's generator, weighed within
each group by Blend's shipped decoding rule (T2) alone, or with ``gamma * R_gen / sd(R_gen)`` added
to the log-weights, where R_gen is the blend reward's form on the generators' opinions (acceptances
(1 + o) / 2 for jazz and (1 - o) / 2 for folk, their soft minimum over the whole melody and each
half, averaged), or ``gamma * R_cross / sd(R_cross)``, where R_cross asks for one genre in the
pitches and the other in the rhythm (:func:`crossing`: the larger soft minimum of the pitch
opinion's acceptance by one genre and the rhythm opinion's by the other), or ``gamma * R_eq /
sd(R_eq)``, R_gen with its middle at the generators' equal-evidence point (:func:`equal_evidence`:
mean log-likelihood ratio 0, not halfway between the genres' means); it prints the effective candidates per group and the judge's label shares that the
kept melodies have in expectation (exact weights, no draw). The numbers behind docs/method.md,
"Three instruments on the middle".

    .venv/bin/python scripts/genre_opinions.py [--n 500] [--seed 0] [--threads 1] [--groups 160]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from fusion.data import corpus  # noqa: E402
from fusion.evaluation import judge as judging  # noqa: E402
from fusion.model import blend, evidence, systems, tilt  # noqa: E402
from fusion.model.sampling import sample as sample_tokens  # noqa: E402
from fusion.model.grammar import Grammar  # noqa: E402

PARTS = evidence.PARTS  # whole, pitch, rhythm, first, second
BEATS = 16  # four bars of 4/4: the evaluation's melodies and the training windows


class Opinions:
    """The generators' genre opinions of melodies (module docstring), calibrated on training windows."""

    def __init__(self, calibration: int = 2000, seed: int = 0):
        self.jazz, self.folk = systems.load_generator("jazz"), systems.load_generator("folk")
        self.vocab = self.jazz.vocab
        self.grammar = Grammar(self.vocab)
        self.ga, self.gb = self.jazz.models[0].eval(), self.folk.models[0].eval()
        self.ticks = BEATS * self.vocab.ticks_per_beat
        settings = corpus.Settings(window_beats=BEATS)
        rng = np.random.default_rng(seed)
        means = {}
        for g in ("jazz", "folk"):
            windows = corpus.load(g, settings).windows("train")
            pick = rng.choice(len(windows), min(calibration, len(windows)), replace=False)
            raw = self.raw([windows[i] for i in pick])
            means[g] = {p: float(np.nanmean(raw[p])) for p in PARTS}
        self.mid = {p: (means["jazz"][p] + means["folk"][p]) / 2 for p in PARTS}
        self.half = {p: (means["jazz"][p] - means["folk"][p]) / 2 for p in PARTS}

    def tokens(self, melodies) -> torch.Tensor:
        rows = [self.vocab.encode(m, total_beats=BEATS, bos_eos=True) for m in melodies]
        L = max(map(len, rows))
        return torch.tensor([r + [self.vocab.pad_id] * (L - len(r)) for r in rows])

    @torch.no_grad()
    def raw(self, melodies, batch: int = 256) -> dict[str, np.ndarray]:
        """Mean d_t per melody over each part's tokens (NaN where a generator gives a token no
        probability, or the part has no token)."""
        out = {p: [] for p in PARTS}
        for i in range(0, len(melodies), batch):
            seq = self.tokens(melodies[i:i + batch])
            la = self.ga.masked_log_probs(seq, self.grammar, self.ticks).double()
            lb = self.gb.masked_log_probs(seq, self.grammar, self.ticks).double()
            impossible = (la < -1e4) | (lb < -1e4)  # a token the grammar mask rules out for this length
            d = la - lb
            bad = impossible.any(1)
            for p, m in evidence.part_masks(seq, self.grammar).items():
                v = (d * m).sum(1) / m.sum(1)
                out[p].append(torch.where(bad | (m.sum(1) == 0), torch.full_like(v, float("nan")), v).numpy())
        return {p: np.concatenate(v) for p, v in out.items()}

    def __call__(self, melodies) -> dict[str, np.ndarray]:
        raw = self.raw(melodies)
        return {p: (raw[p] - self.mid[p]) / self.half[p] for p in PARTS}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--groups", type=int, default=0, help="groups of candidates for the decoding check (0: none)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    opinions = Opinions()
    settings = corpus.Settings(window_beats=BEATS)
    corpora = {g: corpus.load(g, settings) for g in ("jazz", "folk")}
    judge = judging.cached_fit({g: c.windows("train") for g, c in corpora.items()},
                               {g: c.windows("val") for g, c in corpora.items()})
    rng = np.random.default_rng(args.seed)
    test = {g: [c.windows("test")[i] for i in rng.choice(len(c.windows("test")), args.n, replace=False)]
            for g, c in corpora.items()}
    pick = lambda g: test[g][rng.integers(args.n)]  # noqa: E731
    rows = {"real jazz (test)": test["jazz"], "real folk (test)": test["folk"],
            "splices (jazz|folk, folk|jazz)": [judging.splice(pick("jazz"), pick("folk")) if i % 2 == 0 else
                                               judging.splice(pick("folk"), pick("jazz")) for i in range(args.n)],
            "hybrids (pitches of one, rhythm of the other)": [judging.hybrid(pick("folk"), pick("jazz")) if i % 2 == 0
                                                              else judging.hybrid(pick("jazz"), pick("folk"))
                                                              for i in range(args.n)]}
    for name in ("blend", "poe", "mle", "fusion"):
        rows[name] = systems.load_generator(name).sample(args.n, bars=4, seed=args.seed)
    print(f"{args.n} melodies of 4 bars per row, seed {args.seed}; opinions: +1 = real jazz, -1 = real folk "
          "(training windows), 0 = the midpoint")
    print("| melodies | o whole | o pitch | o rhythm | o first half | o second half | between (abs(o whole) <= 0.5) % "
          "| judge: jazz / folk / mixture / neither % | judge: mean P(jazz) | blend reward R: mean / share >= 0.3 |")
    print("|---|" + "---:|" * 6 + "---|---:|---:|")
    reward = systems.load_generator("blend").reward
    kept = {}
    for label, mels in rows.items():
        o = opinions(mels)
        with torch.no_grad():
            r = np.concatenate([reward(opinions.tokens(mels[i:i + 256])).numpy() for i in range(0, len(mels), 256)])
        verdicts = judge.judge(mels)
        lab = np.array([v["label"] for v in verdicts])
        pj = np.array([v["p_jazz"] for v in verdicts])
        kept[label] = (o, lab)
        shares = " / ".join(f"{100 * np.mean(lab == x):.1f}" for x in judging.LABELS)
        print(f"| {label} | " + " | ".join(f"{np.nanmean(o[p]):+.2f}" for p in PARTS)
              + f" | {100 * np.nanmean(np.abs(o['whole']) <= 0.5):.1f} | {shares} | {pj.mean():.2f} "
              f"| {r.mean():.3f} / {100 * np.mean(r >= 0.3):.1f} |")
    o, lab = kept["blend"]
    print("\nBlend: the judge's labels by the generators' opinion of the whole melody")
    print("| o whole | melodies | judge: jazz / folk / mixture / neither % |")
    print("|---|---:|---|")
    edges = (-np.inf, -0.5, -0.25, 0.0, 0.25, 0.5, np.inf)
    for lo, hi in zip(edges, edges[1:]):
        m = (o["whole"] > lo) & (o["whole"] <= hi)
        if m.sum():
            shares = " / ".join(f"{100 * np.mean(lab[m] == x):.1f}" for x in judging.LABELS)
            print(f"| ({lo:+.2f}, {hi:+.2f}] | {int(m.sum())} | {shares} |")
    judge_midpoint(judge, corpora, args.seed)
    if args.groups:
        decoding_check(opinions, judge, args.groups, args.seed)


def judge_midpoint(judge, corpora, seed: int, n: int = 3000) -> None:
    """The judge's classifiers between the genres' mean feature vectors (module docstring;
    :meth:`fusion.evaluation.judge.Judge.between` on training windows)."""
    rng = np.random.default_rng(seed)
    X = {}
    for g, c in corpora.items():
        w = c.windows("train")
        X[g] = judging.describe_all([w[i] for i in rng.choice(len(w), min(n, len(w)), replace=False)])
    found = judge.between(X["jazz"], X["folk"])
    print(f"\nThe judge between the genres' mean feature vectors ({n} training windows of each; t = 0 folk, 1 jazz)")
    print("| classifier | P(jazz) at t = 0.25 | t = 0.5 | t = 0.75 | crosses 1/2 at t | averages of a jazz and a folk window called jazz % |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in found.items():
        print(f"| {name} | {r['p_jazz_at_0.25']:.3f} | {r['p_jazz_at_0.5']:.3f} | {r['p_jazz_at_0.75']:.3f} "
              f"| {r['crossing_t']:.3f} | {100 * r['pairs_called_jazz']:.1f} |")


def crossing(o: dict[str, np.ndarray]) -> np.ndarray:
    """R_cross: how much a melody is one genre in its pitches and the other in its rhythm, by the
    generators' opinions: the larger of softmin(jazz pitch, folk rhythm) and softmin(folk pitch,
    jazz rhythm), with acceptances (1 + o) / 2 (jazz) and (1 - o) / 2 (folk) clipped to [0, 1]."""
    p = torch.as_tensor(np.nan_to_num(o["pitch"]))
    r = torch.as_tensor(np.nan_to_num(o["rhythm"]))
    jazz = lambda x: ((1 + x) / 2).clamp(0, 1)  # noqa: E731
    folk = lambda x: ((1 - x) / 2).clamp(0, 1)  # noqa: E731
    return torch.maximum(blend.softmin(jazz(p), folk(r)), blend.softmin(folk(p), jazz(r))).numpy()


def equal_evidence(o: dict[str, np.ndarray], opinions: Opinions) -> np.ndarray:
    """R_eq: R_gen's form with the middle moved to where both generators find a melody equally
    likely (mean log-likelihood ratio 0, at o0 = -m / h in opinion units) instead of halfway
    between the genres' means: the jazz acceptance is piecewise linear in o, 0 at o = -1 (real
    folk), 1/2 at o0, 1 at o = +1 (real jazz); folk's is 1 minus it."""
    out = []
    for p in ("whole", "first", "second"):
        o0 = -opinions.mid[p] / opinions.half[p]
        x = np.nan_to_num(o[p])
        jazz = np.clip(np.where(x <= o0, (1 + x) / (2 * (1 + o0)), 0.5 + (x - o0) / (2 * (1 - o0))), 0, 1)
        out.append(blend.softmin(torch.as_tensor(jazz), torch.as_tensor(1 - jazz)).numpy())
    return np.mean(out, axis=0)


def decoding_check(opinions: Opinions, judge, groups: int, seed: int) -> None:
    """The judge's label shares of Blend's decoding rule with and without a term for the
    generators' opinions (module docstring)."""
    shipped = systems.load_generator("blend")
    fitted = tilt.Tilt.from_dict(shipped.config["sampling"]["tilt"])
    k = int(shipped.config["sampling"]["candidates"])
    gen = torch.Generator().manual_seed(seed * 1009 + 7)
    mels, rewards = [], []
    for _ in range(groups):
        seqs = sample_tokens(shipped.models, [1.0], k, opinions.ticks, opinions.grammar, generator=gen)
        mels += [opinions.vocab.decode(r) for r in seqs.tolist()]
        rewards.append(shipped.reward(seqs).numpy())
    rewards = np.concatenate(rewards)
    o = opinions(mels)
    accept = {p: (torch.as_tensor((1 + np.nan_to_num(o[p])) / 2), torch.as_tensor((1 - np.nan_to_num(o[p])) / 2))
              for p in ("whole", "first", "second")}
    r_gen = np.mean([blend.softmin(*accept[p]).numpy() for p in accept], axis=0)
    r_cross = crossing(o)
    r_eq = equal_evidence(o, opinions)
    print("\nthe generators' equal-evidence point (mean log-likelihood ratio 0) in opinion units: "
          + ", ".join(f"{p} {-opinions.mid[p] / opinions.half[p]:+.3f}" for p in PARTS))
    base = fitted.log_weights(tilt.count_matrices(mels, fitted.names), rewards)
    lab = np.array([v["label"] for v in judge.judge(mels)])
    print(f"\nBlend's decoding with the generators' opinions: {groups} groups of {k} candidates, seed {seed}")
    print("| log-weights | effective candidates per group | judge (expected): jazz / folk / mixture / neither % |")
    print("|---|---:|---|")
    terms = [(None, None), (0.0, None)] + [(g, "R_gen") for g in (0.5, 1.0, 2.0)] + \
        [(g, "R_cross") for g in (0.5, 1.0, 2.0, 4.0)] + [(g, "R_eq") for g in (0.5, 1.0, 2.0, 4.0)]
    for gamma, term in terms:
        r = {"R_gen": r_gen, "R_cross": r_cross, "R_eq": r_eq}.get(term, np.ones_like(r_gen))
        logw = np.zeros_like(base) if gamma is None else base + (gamma * r / r.std() if gamma else 0)
        w = torch.softmax(torch.as_tensor(logw).view(groups, k), 1).numpy()
        ess = float((1 / (w ** 2).sum(1)).mean())
        w = w.reshape(-1) / groups
        shares = " / ".join(f"{100 * w[lab == x].sum():.1f}" for x in judging.LABELS)
        name = ("one candidate (no rule)" if gamma is None else "(T2), as shipped" if gamma == 0
                else f"(T2) + {gamma} {term} / sd({term})")
        print(f"| {name} | {ess:.1f} | {shares} |")


if __name__ == "__main__":
    main()
