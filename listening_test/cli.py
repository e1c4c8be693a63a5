"""Command line of the listening test.

    python -m listening_test prepare [--per-system 50] [--qualification 20] [--catch 6] [--bars 4]
                                     [--tempo 100] [--instrument 0] [--seed 0] [--replace]
    python -m listening_test simulate --url http://127.0.0.1:7860 --participants 100 [--profile paper]
                                      [--concurrency N] [--seed 0]

The database is ``DATABASE_URL`` or ``.survey/survey.sqlite`` (``listening_test.db``); ``simulate``
needs the researcher token of the running app in ``FUSION_RESEARCHER_TOKEN``.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time


def _prepare(args) -> int:
    from listening_test import db, stimuli

    engine = db.make_engine()
    t = time.time()
    out = stimuli.prepare(db.sessions(engine), per_system=args.per_system, qualification=args.qualification,
                          catch=args.catch, bars=args.bars, tempo=args.tempo, program=args.instrument,
                          seed=args.seed, replace=args.replace, log=lambda m: print(m, file=sys.stderr))
    print(json.dumps({**out, "database": engine.url.render_as_string(hide_password=True),
                      "seconds": round(time.time() - t, 1)}, indent=1))
    return 0


def _simulate(args) -> int:
    from fusion import config
    from listening_test import simulate

    token = config.researcher_token()
    if not token:
        raise ValueError("set FUSION_RESEARCHER_TOKEN to the running app's researcher token")
    t = time.time()
    report = simulate.simulate(args.url, args.participants, simulate.load_profile(args.profile), token,
                               seed=args.seed, concurrency=args.concurrency)
    lat = sorted(report.latencies)
    print(json.dumps({"participants": report.participants, "finished": report.finished, "answers": report.answers,
                      "errors": report.errors[:10], "seconds": round(time.time() - t, 1),
                      "answer_latency_ms": {"p50": round(1000 * statistics.median(lat), 1) if lat else None,
                                            "p95": round(1000 * lat[int(0.95 * (len(lat) - 1))], 1) if lat else None}},
                     indent=1))
    return 0 if not report.errors else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m listening_test", description="FusionGAN's listening test")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare", help="build the stimulus pool in the database")
    p.add_argument("--per-system", type=int, default=50)
    p.add_argument("--qualification", type=int, default=20, help="real clips per genre for the qualification step and its labelled examples (at least 3)")
    p.add_argument("--catch", type=int, default=6)
    p.add_argument("--bars", type=int, default=4)
    p.add_argument("--tempo", type=float, default=100.0)
    p.add_argument("--instrument", type=int, default=0, help="General MIDI program (0 = piano)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--replace", action="store_true", help="rebuild the pool if no participant has started")
    p.set_defaults(func=_prepare)
    s = sub.add_parser("simulate", help="simulated participants against a running app")
    s.add_argument("--url", required=True)
    s.add_argument("--participants", type=int, default=100)
    s.add_argument("--profile", default="paper", help="'paper' or a JSON file")
    s.add_argument("--concurrency", type=int)
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(func=_simulate)
    args = ap.parse_args(argv)
    # qualification: 3 per genre at least, as a participant's three qualification clips take up to 2
    # of one genre and the labelled examples need one more of each (listening_test.flow)
    for name, low, high in (("per_system", 1, 1000), ("qualification", 3, 1000), ("catch", 0, 100), ("bars", 1, 16),
                            ("tempo", 40, 240), ("instrument", 0, 127), ("participants", 1, 100_000)):
        v = getattr(args, name, None)
        if v is not None and not low <= v <= high:
            print(f"error: --{name.replace('_', '-')} must be in {low}..{high}", file=sys.stderr)
            return 1
    try:
        return args.func(args)
    except (ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
