#!/bin/bash
# The survey benchmark on both databases, alternating: RUNS runs (default 3) of
# bench/bench_survey.py on SQLite and on PostgreSQL, one table row each (docs/performance.md).
# PostgreSQL is started as tests/conftest.py starts it (initdb -A trust, fsync=on,
# max_connections=200, on 127.0.0.1:PGPORT), with a fresh database for each run; run as root
# (the server runs as the postgres user).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
PGPORT=${PGPORT:-55432}
PY=${PY:-.venv/bin/python}
BIN=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
D=$(mktemp -d /tmp/bench-pg-XXXX)
chown postgres "$D"
runuser -u postgres -- "$BIN/initdb" -D "$D/data" -A trust -U postgres >/dev/null
runuser -u postgres -- "$BIN/pg_ctl" -D "$D/data" -l "$D/log" -w \
  -o "-h 127.0.0.1 -p $PGPORT -k $D -c fsync=on -c max_connections=200" start >/dev/null
trap 'runuser -u postgres -- "$BIN/pg_ctl" -D "$D/data" -m fast stop >/dev/null; rm -rf "$D"' EXIT
for i in $(seq 1 "$RUNS"); do
  if [ "$i" = 1 ]; then $PY bench/bench_survey.py; else $PY bench/bench_survey.py | tail -1; fi
  runuser -u postgres -- "$BIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres "bench$i"
  $PY bench/bench_survey.py --database-url "postgresql+psycopg://postgres@127.0.0.1:$PGPORT/bench$i" | tail -1
done
