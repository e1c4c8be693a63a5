"""Saving an answer under load: 100 simulated participants at once against one app process.

A fresh pool of 1-second clips is prepared in a temporary SQLite file (or ``--database-url``);
``python app.py`` is started on it and left to load its data and judge (``/healthz``), so that
the crowd meets a quiet app, as a study's does; ``listening_test.simulate`` runs ``--participants`` at once
(each listens to every clip, then answers); the latency of every acknowledged answer (request to
response, as the participant's browser sees it) is reported as percentiles, beside the app
process's CPU time per answer (:func:`cpu_seconds`, over the crowd's run) and the time one core
takes for a fixed loop before and after the crowd (:func:`cpu_loop_s`: how fast the machine was).

    python bench/bench_survey.py [--participants 100] [--database-url URL] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from listening_test import db, simulate, stimuli  # noqa: E402


def cpu_loop_s(n: int = 5_000_000) -> float:
    """Seconds one core takes for a fixed pure-Python loop (the best of three): how fast this
    machine's cores are at the moment. On the shared 2-core machines it moved by up to 1.9x
    within minutes (``docs/performance.md``, 2026-12-08), so every run reports it beside its
    percentiles, taken just before and just after the crowd."""
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        s = 0
        for i in range(n):
            s += i
        best = min(best, time.perf_counter() - t)
    return round(best, 3)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process ``pid`` has used so far, from ``/proc/<pid>/stat``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--participants", type=int, default=100)
    ap.add_argument("--database-url")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-survey-"))
    url = args.database_url or f"sqlite:///{folder / 'survey.sqlite'}"
    stimuli.prepare(db.sessions(db.make_engine(url)), per_system=4, qualification=4, catch=2, bars=1, tempo=240.0,
                    log=lambda m: None)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = "bench"
    env = {**os.environ, "DATABASE_URL": url, "FUSION_RESEARCHER_TOKEN": token,
           "FUSION_STARTS_PER_HOUR": "0"}  # every simulated participant comes from 127.0.0.1
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    app = f"http://127.0.0.1:{port}"
    try:
        for _ in range(3000):  # until the app has loaded its data and judge (a quiet app, as in a study)
            try:
                with urllib.request.urlopen(app + "/healthz", timeout=1) as r:
                    if not json.load(r)["loading"]:
                        break
            except OSError:
                pass
            time.sleep(0.2)
        speed_before = cpu_loop_s()
        app_cpu = cpu_seconds(proc.pid)
        t = time.time()
        report = simulate.simulate(app, args.participants, simulate.paper_profile(), token, seed=7)
        wall = time.time() - t
        app_cpu = cpu_seconds(proc.pid) - app_cpu
        speed_after = cpu_loop_s()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    def percentiles(seconds):
        ms = np.array(seconds) * 1000
        return {"p50": round(float(np.percentile(ms, 50)), 1), "p95": round(float(np.percentile(ms, 95)), 1),
                "p99": round(float(np.percentile(ms, 99)), 1), "max": round(float(ms.max()), 1)}

    result = {"database": url.split(":")[0], "participants": args.participants, "finished": report.finished,
              "answers": report.answers, "errors": len(report.errors), "wall_s": round(wall, 1),
              "retries": {f"{route} {why}": n for (route, why), n in sorted(report.retries.items(), key=str)},
              "answer_ms": percentiles(report.latencies), "answer_in_app_ms": percentiles(report.server_latencies),
              "cpu_loop_s": [speed_before, speed_after],
              "app_cpu_ms_per_answer": round(1000 * app_cpu / max(report.answers, 1), 2)}
    if args.json:
        print(json.dumps(result, indent=1))
        return
    a, b = result["answer_ms"], result["answer_in_app_ms"]
    print("| database | participants at once | answers | errors | retries | p50 | p95 | p99 | max | p95 in the app "
          "| app CPU per answer | CPU loop before / after |\n"
          f"|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
          f"| {result['database']} | {args.participants} | {result['answers']} | {result['errors']} | "
          f"{sum(report.retries.values())} | {a['p50']} ms | {a['p95']} ms | {a['p99']} ms | {a['max']} ms | {b['p95']} ms | "
          f"{result['app_cpu_ms_per_answer']} ms | {speed_before} / {speed_after} s |")


if __name__ == "__main__":
    main()
