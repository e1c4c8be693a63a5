#!/usr/bin/env bash
# The "before" rows of docs/performance.md's survey table: bench/bench_survey.py as it was at
# commit 71924d9 (the survey before issue 12), run from a temporary git worktree of that commit,
# with one change: a pause of SETTLE_S seconds (default 20) after the app first answers, so that it
# has loaded its data and judge (that code has no /healthz to wait for). Uses this checkout's .venv
# and cache.   bash bench/bench_survey_before.sh [--database-url URL]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tree=$(mktemp -d)/before
git -C "$root" worktree add -q "$tree" 71924d9
trap 'git -C "$root" worktree remove --force "$tree"' EXIT
python3 - "$tree/bench/bench_survey.py" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
anchor = "                time.sleep(0.2)\n"
assert anchor in s
s = s.replace(anchor, anchor + '        time.sleep(float(os.environ.get("SETTLE_S", "20")))  # let the app load\n', 1)
open(p, "w").write(s)
PY
cd "$tree"
FUSION_CACHE="${FUSION_CACHE:-$root/.cache}" "$root/.venv/bin/python" bench/bench_survey.py "$@"
