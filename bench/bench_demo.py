"""Demo latency and app start-up.

1. In-process, warm: one 8-bar melody generated, synthesised and plotted (``Demo.generate``: sample,
   audio (MP3 for the page, WAV for download), MIDI file, piano roll, histograms, judge, score),
   ``--n`` times with different seeds; median and percentiles of the total and of each part. The
   naive way for comparison: a new synthesizer per call (loading the SoundFont each time) and the
   checkpoint loaded per call. And the page's audio: the MP3 against the 16-bit WAV it replaced
   (bytes and encoding time).
2. Over HTTP: ``python app.py`` started as a visitor's machine would start it (seconds until the
   page answers), then ``--n`` ``/generate`` calls through Gradio's REST API (request until the
   complete answer: queue, handler, audio and figure encoding) and ``--n`` through
   ``gradio_client`` (which also downloads the MP3, MIDI and MusicXML files). Client and server share the
   machine's two cores.

    python bench/bench_demo.py [--n 40] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from fusion import demo as D  # noqa: E402
from fusion.model import systems  # noqa: E402
from fusion.render.audio import Renderer  # noqa: E402
from tests.helpers import App  # noqa: E402


def pct(xs, q):
    return float(np.percentile(xs, q))


def summary(xs):
    return {"p50_ms": round(1000 * pct(xs, 50), 1), "p90_ms": round(1000 * pct(xs, 90), 1),
            "p99_ms": round(1000 * pct(xs, 99), 1), "max_ms": round(1000 * max(xs), 1)}


def in_process(n: int) -> dict:
    torch.set_num_threads(1)
    engine = D.Demo(background=False)
    engine.warm_up()
    parts = {k: [] for k in ("sample", "audio_midi", "figures", "judge", "score", "total")}
    for i in range(n):
        out = engine.generate(D.Settings(system="fusion", bars=8, seed=1000 + i, instrument="Alto Sax"))
        for k, v in out.seconds.items():
            parts[k].append(v)
    naive = []
    shared = engine.renderer
    for i in range(max(5, n // 4)):  # the same work, loading the checkpoint and SoundFont per call
        t = time.perf_counter()
        engine.systems["fusion"] = systems.load_generator("fusion")
        with Renderer() as r:
            engine.renderer = r
            engine.generate(D.Settings(system="fusion", bars=8, seed=1000 + i, instrument="Alto Sax"))
        naive.append(time.perf_counter() - t)
    engine.renderer = shared
    return {"warm": {k: summary(v) for k, v in parts.items()}, "naive_reload_per_call": summary(naive),
            "page_audio": page_audio(engine, n)}


def page_audio(engine, n: int) -> dict:
    """The page's audio of an 8-bar melody: MP3 (now) against 16-bit WAV (before): median bytes
    and encoding milliseconds."""
    import io

    from scipy.io import wavfile

    from fusion.render.audio import encode_mp3, to_int16

    sizes, times = {"mp3": [], "wav": []}, {"mp3": [], "wav": []}
    for i in range(n):
        m = engine.systems["fusion"].sample(1, bars=8, seed=4000 + i)[0]
        audio = engine.renderer.render(m, program=65, tempo=120)
        t = time.perf_counter()
        sizes["mp3"].append(len(encode_mp3(audio, engine.renderer.sample_rate)))
        times["mp3"].append(time.perf_counter() - t)
        t = time.perf_counter()
        buf = io.BytesIO()
        wavfile.write(buf, engine.renderer.sample_rate, to_int16(audio))
        sizes["wav"].append(len(buf.getvalue()))
        times["wav"].append(time.perf_counter() - t)
    return {k: {"kb": round(statistics.median(sizes[k]) / 1024, 1), "encode_ms": round(1000 * statistics.median(times[k]), 1)}
            for k in sizes}


def over_http(n: int) -> dict:
    from gradio_client import Client

    app = App(poll=0.05, request_timeout=1)  # output discarded
    start = app.start()  # seconds from process start to the first page answer
    url = app.url + "/"
    try:
        import httpx

        args = ["fusion", 0.0, 8, 120, 1.0, 1, False, "Alto Sax"]
        rest = []
        with httpx.Client(timeout=60) as http:
            for i in range(n + 1):  # the first call warms up
                t = time.perf_counter()
                event = http.post(f"{url}gradio_api/call/generate", json={"data": args[:5] + [2000 + i] + args[6:]})
                with http.stream("GET", f"{url}gradio_api/call/generate/{event.json()['event_id']}") as answer:
                    body = "".join(answer.iter_text())
                assert "event: complete" in body, body[:300]
                rest.append(time.perf_counter() - t)
        client = Client(url, verbose=False)
        times = []
        for i in range(n):
            t = time.perf_counter()
            client.predict(*args[:5], 3000 + i, *args[6:], api_name="/generate")
            times.append(time.perf_counter() - t)
        return {"start_s": round(start, 2), "rest_8_bars": summary(rest[1:]), "client_8_bars": summary(times)}
    finally:
        app.stop(timeout=20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    result = {"in_process": in_process(args.n), "http": over_http(args.n), "n": args.n}
    if args.json:
        print(json.dumps(result, indent=1))
        return
    w = result["in_process"]["warm"]
    print("| 8-bar melody | p50 | p90 | p99 |\n|---|---:|---:|---:|")
    for k in ("sample", "audio_midi", "figures", "judge", "score", "total"):
        print(f"| {k} (in process, warm) | {w[k]['p50_ms']} ms | {w[k]['p90_ms']} ms | {w[k]['p99_ms']} ms |")
    nv = result["in_process"]["naive_reload_per_call"]
    print(f"| naive: checkpoint + SoundFont loaded per call | {nv['p50_ms']} ms | {nv['p90_ms']} ms | {nv['p99_ms']} ms |")
    h = result["http"]["rest_8_bars"]
    print(f"| /generate over HTTP, request to complete answer | {h['p50_ms']} ms | {h['p90_ms']} ms | {h['p99_ms']} ms |")
    h = result["http"]["client_8_bars"]
    print(f"| /generate via gradio_client, with MP3 + MIDI + MusicXML downloads | {h['p50_ms']} ms | {h['p90_ms']} ms | {h['p99_ms']} ms |")
    print(f"\napp start (process start to first page answer): {result['http']['start_s']} s")
    a = result["in_process"]["page_audio"]
    print(f"page audio of an 8-bar melody: MP3 {a['mp3']['kb']} KB in {a['mp3']['encode_ms']} ms; "
          f"WAV {a['wav']['kb']} KB in {a['wav']['encode_ms']} ms ({a['wav']['kb'] / a['mp3']['kb']:.1f}x the bytes)")


if __name__ == "__main__":
    main()
