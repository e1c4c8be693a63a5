"""Command line: ``python -m fusion data stats|download``, ``train``, ``generate``, ``evaluate``."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _stats(args: argparse.Namespace) -> int:
    from fusion.data import corpus

    settings = corpus.Settings(modes=args.modes, folk_source=args.folk_source, jazz_source=args.jazz_source)
    stats = corpus.stats(settings, genres=args.genres)
    if args.json:
        print(json.dumps(stats, indent=2, sort_keys=True))
    else:
        print(corpus.format_stats(stats))
    return 0


def _train(args: argparse.Namespace) -> int:
    import shutil
    import time

    import torch

    from fusion.evaluation import curves
    from fusion.model import export, train
    from fusion.model.presets import PRESETS

    torch.set_num_threads(args.threads)
    preset = PRESETS[args.preset]
    if args.seed is not None:
        import dataclasses
        preset = dataclasses.replace(preset, seed=args.seed)
    official = args.preset == "paper"
    run_dir = Path(args.run_dir or f"runs/{preset.name}")
    out = Path(args.out or ("checkpoints" if official else run_dir / "checkpoints"))
    reports = Path(args.reports or ("reports" if official else run_dir / "reports"))
    if args.fresh and run_dir.exists():
        shutil.rmtree(run_dir)
    systems = args.systems or list(train.SYSTEMS)
    t0 = time.time()
    trainer = train.Trainer(preset, run_dir, systems=systems, device=args.device, progress=not args.quiet,
                            redo=args.redo or ())
    if args.redo:
        print(f"running again: {', '.join(trainer.redone) or 'nothing (not finished yet)'}", file=sys.stderr)
    print(f"training {', '.join(systems)} with preset {preset.name!r} on {trainer.device}; stages: "
          f"{', '.join(trainer.stages)}" + (f" (done already: {', '.join(trainer.done)})" if trainer.done else ""),
          file=sys.stderr)
    extra = trainer.run()
    written = export.export(trainer, out, "python -m fusion " + " ".join(args.argv))
    records = curves.read_log(run_dir / "log.jsonl")
    html = curves.write(records, reports / f"training_{preset.name}.html",
                        title=f"FusionGAN training, preset {preset.name}")
    shutil.copyfile(run_dir / "log.jsonl", reports / f"training_{preset.name}.jsonl")
    print(json.dumps({"checkpoints": str(out), "systems": written, "curves": str(html),
                      "run_seconds": extra.get("run_seconds"), "this_call_seconds": round(time.time() - t0, 1),
                      "val_nll": extra.get("val_nll")}, indent=1))
    return 0


def _generate(args: argparse.Namespace) -> int:
    from fusion.model import systems
    from fusion.render import midi

    if not 1 <= args.n <= 10_000:
        raise ValueError(f"--n must be in 1..10000, got {args.n}")
    system = systems.load_generator(args.system, args.checkpoints)
    mels = system.sample(args.n, bars=args.bars, seed=args.seed, temperature=args.temperature, top_k=args.top_k)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for i, m in enumerate(mels):
        path = out / f"{args.system}-seed{args.seed}-{i + 1:03d}.mid"
        midi.save_midi(m, path)
        print(path)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    import dataclasses

    import torch

    from fusion import evaluation, paths
    from fusion.evaluation import report

    torch.set_num_threads(args.threads)
    make = evaluation.Options.quick if args.quick else evaluation.Options
    changes = {k: v for k, v in (("samples", args.samples), ("bootstrap", args.bootstrap)) if v is not None}
    options = make(seed=args.seed, checkpoints=args.checkpoints, **changes)
    if args.systems:
        options = dataclasses.replace(options, systems=tuple(args.systems))
    if not 2 <= options.samples <= 10_000:
        raise ValueError(f"--samples must be in 2..10000, got {options.samples}")
    if not 10 <= options.bootstrap <= 100_000:
        raise ValueError(f"--bootstrap must be in 10..100000, got {options.bootstrap}")
    log = (lambda *a: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    commit = paths.git_commit()  # the code that produces the results, read before they are made
    results = evaluation.evaluate(options, log=log)
    command = "python -m fusion " + " ".join(args.argv)
    written = report.write(results, args.out, command, f"{commit['commit'][:7]}{' (dirty)' if commit['dirty'] else ''}",
                           png=not args.no_png)
    for goal, met, _ in report.goals(results):
        log(f"{'met   ' if met else 'missed'}  {goal}")
    print(json.dumps({"written": [str(p) for p in written], "judge_accuracy": results.judge_accuracy["accuracy"],
                      "timings_s": results.facts["timings_s"]}, indent=1))
    return 0


def _seeds(args: argparse.Namespace) -> int:
    import torch

    from fusion import paths
    from fusion.evaluation import seeds

    torch.set_num_threads(args.threads)
    command = "python -m fusion " + " ".join(args.argv)
    log = (lambda *a: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    folders: dict[int, str | None] = {0: args.checkpoints}
    folders.update(seeds.train_seeds([s for s in args.seeds if s != 0], Path(args.base), args.preset, jobs=args.jobs,
                                     threads=args.threads, progress=not args.quiet, command=command, log=log,
                                     systems=args.systems))
    commit = paths.git_commit()
    df = seeds.study(folders, samples=args.samples, bootstrap=args.bootstrap, log=log, quick=args.quick,
                     systems=args.systems)
    df = df.assign(command=command, commit=commit["commit"][:7] + (" (dirty)" if commit["dirty"] else ""))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df = seeds.merge(df, out)
    df.round(6).to_csv(out / "seeds.csv", index=False)
    (out / "seeds.md").write_text(seeds.markdown(df))
    print(seeds.summary(df).round(4).to_string(index=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from fusion.data import corpus, download

    parser = argparse.ArgumentParser(prog="python -m fusion", description="FusionGAN command line.")
    top = parser.add_subparsers(dest="command", required=True)
    data = top.add_parser("data", help="the jazz and folk melody data")
    data_sub = data.add_subparsers(dest="data_command", required=True)

    st = data_sub.add_parser("stats", help="per-genre counts: pieces, notes, filters, windows, keys, meters")
    st.add_argument("--json", action="store_true", help="print JSON instead of a table")
    st.add_argument("--modes", default="major", choices=corpus.MODE_FILTERS,
                    help="keep major-key pieces only (the paper) or all modes")
    st.add_argument("--folk-source", default="auto", choices=("auto", "kern", "abc"),
                    help="Essen from the Humdrum kern folder or music21's ABC corpus")
    st.add_argument("--jazz-source", default="auto", choices=("auto", "csv", "sqlite"),
                    help="WJazzD from the CSV export or wjazzd.db")
    st.add_argument("--genres", nargs="+", default=["jazz", "folk"], choices=["jazz", "folk"])
    st.set_defaults(func=_stats)

    download.register(data_sub)

    from fusion.model import systems, train
    from fusion.model.presets import PRESETS

    tr = top.add_parser("train", help="train every system (or --systems ...) and write checkpoints")
    tr.add_argument("--preset", default="paper", choices=sorted(PRESETS))
    tr.add_argument("--systems", nargs="+", choices=train.SYSTEMS, help="a subset of the systems")
    tr.add_argument("--run-dir", help="where the resumable state and log go (default runs/<preset>)")
    tr.add_argument("--out", help="checkpoint folder (default checkpoints/ for paper, else <run-dir>/checkpoints)")
    tr.add_argument("--reports", help="where the curves go (default reports/ for paper, else <run-dir>/reports)")
    tr.add_argument("--fresh", action="store_true", help="discard a previous run's state instead of resuming")
    tr.add_argument("--redo", nargs="+", choices=train.STAGES, metavar="STAGE",
                    help="run these finished stages again, and every finished stage after them")
    tr.add_argument("--device", default="auto", help="auto (GPU when present), cpu, cuda, ...")
    tr.add_argument("--threads", type=int, default=2, help="CPU threads for torch")
    tr.add_argument("--seed", type=int, help="override the preset's seed")
    tr.add_argument("--quiet", action="store_true", help="no progress bars")
    tr.set_defaults(func=_train)

    ge = top.add_parser("generate", help="write K MIDI files from a trained system")
    ge.add_argument("--system", required=True, choices=list(systems.SYSTEMS))
    ge.add_argument("--n", type=int, default=4, help="how many melodies")
    ge.add_argument("--bars", type=int, default=4, help="bars of 4/4 per melody")
    ge.add_argument("--seed", type=int, default=0)
    ge.add_argument("--temperature", type=float, default=1.0)
    ge.add_argument("--top-k", type=int, default=0)
    ge.add_argument("--checkpoints", help="checkpoint folder (default checkpoints/)")
    ge.add_argument("--out", required=True, help="folder for the MIDI files")
    ge.set_defaults(func=_generate)

    se = top.add_parser("seeds", help="train blend and fusion (from the paper run's snapshot) or hybrid (from "
                                      "scratch) with more seeds; mean and spread of the headline numbers -> "
                                      "reports/seeds.{csv,md}")
    se.add_argument("--seeds", nargs="+", type=int, default=[1, 2], help="seeds besides the shipped seed 0")
    se.add_argument("--base", default="runs/paper", help="the paper run folder (holds before_fusion.pt)")
    se.add_argument("--checkpoints", help="seed 0's checkpoint folder (default checkpoints/)")
    se.add_argument("--samples", type=int, default=500)
    se.add_argument("--bootstrap", type=int, default=200)
    se.add_argument("--out", default="reports")
    se.add_argument("--threads", type=int, default=2, help="CPU threads for torch, in all (split among --jobs)")
    se.add_argument("--jobs", type=int, default=1,
                    help="seeds trained at once, in separate processes (2 on a 2-core machine: about half the time)")
    se.add_argument("--preset", default="paper", choices=sorted(PRESETS),
                    help="the preset the base run was trained with")
    se.add_argument("--quick", action="store_true", help="the evaluation's quick judge (1500 windows per genre; "
                                                         "for tests)")
    se.add_argument("--systems", nargs="+", default=["fusion", "blend"], choices=("fusion", "blend", "hybrid"),
                    help="the systems to re-train and evaluate (seeds.STUDIED; default the fusion-stage ones; "
                         "hybrid re-runs its members' pre-training too; the other systems' rows in --out's "
                         "seeds.csv are kept)")
    se.add_argument("--quiet", action="store_true")
    se.set_defaults(func=_seeds)

    ev = top.add_parser("evaluate", help="Table I, sequential measures, novelty and the automatic judge -> reports/")
    ev.add_argument("--samples", type=int, help="melodies per system (default 500; 40 with --quick)")
    ev.add_argument("--bootstrap", type=int, help="bootstrap resamples (default 1000; 60 with --quick)")
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--systems", nargs="+", choices=list(systems.SYSTEMS), help="a subset of the systems")
    ev.add_argument("--checkpoints", help="checkpoint folder (default checkpoints/)")
    ev.add_argument("--out", default="reports", help="folder for the tables, evaluation.md and figures")
    ev.add_argument("--quick", action="store_true", help="few samples and resamples, judge on 1500 windows "
                                                         "per genre: seconds, for tests")
    ev.add_argument("--no-png", action="store_true", help="HTML figures only (PNG needs Chromium)")
    ev.add_argument("--threads", type=int, default=2, help="CPU threads for torch")
    ev.add_argument("--quiet", action="store_true")
    ev.set_defaults(func=_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    args.argv = argv
    try:
        return int(args.func(args) or 0)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
