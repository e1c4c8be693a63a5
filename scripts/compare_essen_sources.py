"""How far music21's Essen ABC copy agrees with the Humdrum kern edition.

    .venv/bin/python scripts/compare_essen_sources.py

Tunes are matched by ESAC id and title where that pair occurs once in each source. For each
collection it counts tunes whose pitch sequences are equal, equal only up to octaves, or
different; then how often the ABC mode completed by key analysis equals the kern annotation.
The figures in docs/method.md come from this script.
"""
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fusion.data import corpus  # noqa: E402


def key(m):
    return m.extra["esac"], m.title.strip()


def main() -> None:
    abc, kern = corpus.parsed("folk", "abc")[0], corpus.parsed("folk", "kern")[0]
    na, nk = Counter(map(key, abc)), Counter(map(key, kern))
    a = {key(m): m for m in abc if na[key(m)] == 1}
    k = {key(m): m for m in kern if nk[key(m)] == 1}
    common = sorted(set(a) & set(k))
    table: dict[str, Counter] = defaultdict(Counter)
    modes = Counter()
    for x in common:
        ma, mk = a[x], k[x]
        group = "/".join(mk.source_id.split(":", 1)[1].split("/")[:2])
        if ma.pitches == mk.pitches:
            table[group]["equal"] += 1
        elif [p % 12 for p in ma.pitches] == [p % 12 for p in mk.pitches]:
            table[group]["octave only"] += 1
        else:
            table[group]["different"] += 1
        modes[ma.key_mode == mk.key_mode] += 1
    print(f"tunes read: abc {len(abc):,}, kern {len(kern):,}; matched once in each: {len(common):,}\n")
    print("| kern collection | matched | equal pitches | equal up to octaves | different |")
    print("|---|---|---|---|---|")
    for group, c in sorted(table.items(), key=lambda kv: -sum(kv[1].values())):
        n = sum(c.values())
        print(f"| {group} | {n:,} | {c['equal']:,} ({c['equal'] / n:.1%}) | {c['octave only']:,} "
              f"| {c['different']:,} |")
    total = sum(modes.values())
    print(f"\nABC mode (completed by analysis) equals the kern mode: {modes[True]:,} of {total:,} "
          f"({modes[True] / total:.1%})")


if __name__ == "__main__":
    main()
