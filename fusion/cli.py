"""Command line: ``python -m fusion data stats|download``."""
from __future__ import annotations

import argparse
import json
import sys


def _stats(args: argparse.Namespace) -> int:
    from fusion import corpus

    settings = corpus.Settings(modes=args.modes, folk_source=args.folk_source, jazz_source=args.jazz_source)
    stats = corpus.stats(settings, genres=args.genres)
    if args.json:
        print(json.dumps(stats, indent=2, sort_keys=True))
    else:
        print(corpus.format_stats(stats))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from fusion import corpus, download

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
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
