"""``python -m listening_test simulate``: a crowd of simulated participants driving the running
app over HTTP, each answering with the probabilities of a profile.

Profile ``paper``: for each system, the fusion-recognition and musicality answers are drawn with
the paper's Table II percentages (normalised: the GAN row sums to 91%); qualification clips are
named correctly with the paper's 66.5% and otherwise with one of the two wrong answers; catch
trials are answered "neither"; the human-composed controls, which the paper did not have, are
answered with :data:`CONTROL_PROFILE`. A profile file (JSON, the same shape as :func:`paper_profile`)
replaces any part.

Each participant plays every clip (fetches its audio) and waits its length before answering, as
the server requires; ``--speed`` only shortens the think time after that.
"""
from __future__ import annotations

import functools
import json
import random
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from collections import Counter
from dataclasses import dataclass, field

from urllib.parse import urlsplit

import httpx

from fusion.evaluation import paper
from listening_test.web import COOKIE

CONTROL_PROFILE = {
    "real jazz": {"fusion": {"jazz": 70, "folk": 5, "mixture": 15, "neither": 10},
                  "musicality": {"expert": 60, "newbie": 30, "robot": 10}},
    "real folk": {"fusion": {"jazz": 5, "folk": 70, "mixture": 15, "neither": 10},
                  "musicality": {"expert": 50, "newbie": 40, "robot": 10}},
    # the positive controls (fusions made of real music): assumed, for simulation only, to be heard
    # as mixtures more often than not; what people hear is the survey's to measure
    "real medley": {"fusion": {"jazz": 20, "folk": 20, "mixture": 50, "neither": 10},
                    "musicality": {"expert": 40, "newbie": 45, "robot": 15}},
    "real hybrid": {"fusion": {"jazz": 25, "folk": 20, "mixture": 45, "neither": 10},
                    "musicality": {"expert": 35, "newbie": 45, "robot": 20}},
}


def paper_profile() -> dict:
    out = {"qualification_accuracy": 0.665, "catch": {"neither": 100}}
    for system, row in paper.TABLE_II.items():
        out[system] = {"fusion": {k: row[k] for k in paper.LABELS},
                       "musicality": {k: row[k] for k in ("expert", "newbie", "robot")}}
    return {**out, **CONTROL_PROFILE}


def load_profile(name: str) -> dict:
    if name == "paper":
        return paper_profile()
    with open(name) as f:
        return {**paper_profile(), **json.load(f)}


@dataclass
class Report:
    participants: int = 0
    finished: int = 0
    answers: int = 0
    latencies: list = field(default_factory=list)  # seconds per acknowledged answer, as the client sees it
    server_latencies: list = field(default_factory=list)  # the same, inside the app (its Server-Timing)
    errors: list = field(default_factory=list)
    codes: list = field(default_factory=list)
    acks: list = field(default_factory=list)  # (token, position, question, choice) of every acknowledged answer
    tokens: list = field(default_factory=list)  # each attempt's browser secret (its cookie)
    retries: Counter = field(default_factory=Counter)  # (route, status or "connection") of every retried request
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


@functools.lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    """One TLS context for every simulated browser: building one per client (httpx's default)
    costs tens of milliseconds of CPU each, which a crowd of 100 starting at once would spend on
    the machine it measures."""
    return ssl.create_default_context()


def _pick(rng: random.Random, weights: dict) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def participant(url: str, profile: dict, seed: int, report: Report, researcher_token: str, think: float = 0.05,
                external_id: str | None = None, timeout: float = 60.0, token: str | None = None) -> None:
    """One simulated participant from consent to completion code. What each clip is (system,
    true genre) is asked of the researchers' API, which a real participant cannot reach."""
    rng = random.Random(seed)
    with httpx.Client(base_url=url.rstrip("/"), timeout=timeout, verify=_tls()) as http:
        if token:  # the same browser comes back: its cookie
            http.cookies.set(COOKIE, token, domain=urlsplit(url).hostname, path="/survey")
            state = _get(http, "/survey/api/state", report)
        else:
            state = _post(http, "/survey/api/start", {"PROLIFIC_PID": external_id, "consent": True}, report)
            token = http.cookies.get(COOKIE)
            with report.lock:
                report.tokens.append(token)
        r = http.get("/results/api/assignment", params={"secret": token},
                     headers={"Authorization": f"Bearer {researcher_token}"})
        if r.status_code != 200:
            raise RuntimeError(f"the researchers' API refused: {r.text[:200]} (is FUSION_RESEARCHER_TOKEN right?)")
        clips = {c["position"]: c for c in r.json()}
        while state["step"] != "done":
            pos = state["position"]
            if state.get("first_question"):
                _fetch(http, state["audio"], report)
                time.sleep(state["seconds"] + think * rng.random())
            clip = clips[pos]
            # one draw per (participant, clip kind, question): the answers do not depend on the
            # order the server chose, so a simulation is reproducible from its seed
            draw = random.Random(f"{seed}|{clip['role']}|{clip['system']}|{pos if clip['role'] != 'main' else ''}"
                                 f"|{state['question']}")
            choice = _answer(draw, profile, state, clip["genre"], clip["system"])
            t = time.perf_counter()
            sent = (token, pos, state["question"], choice)
            timing: dict = {}
            state = _post(http, "/survey/api/answer", {"position": pos, "question": sent[2], "choice": choice}, report,
                          timing)
            with report.lock:
                report.latencies.append(time.perf_counter() - t)
                if "app" in timing:
                    report.server_latencies.append(timing["app"])
                report.answers += 1
                report.acks.append(sent)
        with report.lock:
            report.finished += 1
            report.codes.append(state["completion_code"])


def _answer(rng, profile, state, truth, system) -> str:
    q = state["question"]
    if q == "genre":
        if truth in ("jazz", "folk") and rng.random() < profile["qualification_accuracy"]:
            return truth
        return rng.choice([c for c in state["choices"] if c != truth])
    weights = profile.get(system, {}).get(q)
    if system == "catch" and q == "fusion":
        weights = profile["catch"]
    return _pick(rng, weights) if weights else rng.choice(state["choices"])


def _fetch(http: httpx.Client, path: str, report: Report | None = None) -> bytes:
    """GET bytes (a clip), retrying a busy server (503) as a browser's audio element is retried."""
    for attempt in range(8):
        r = http.get(path)
        if r.status_code != 503:
            r.raise_for_status()
            return r.content
        _retried(report, path, 503)
        time.sleep(float(r.headers.get("Retry-After", 1)))
    raise RuntimeError(f"{path} was busy eight times")


def _retried(report: Report | None, path: str, why) -> None:
    if report is not None:
        with report.lock:
            report.retries[(path.rsplit("/", 1)[0] if "/audio/" in path else path, why)] += 1


def _get(http: httpx.Client, path: str, report: Report | None = None) -> dict:
    return _post(http, path, None, report)


def _post(http: httpx.Client, path: str, body: dict | None, report: Report | None = None,
          timing: dict | None = None) -> dict:
    """POST ``body`` (GET when None), retrying lost connections and 5xx (a busy server answers
    503) with a growing wait, as the survey page does; a 4xx raises."""
    for attempt in range(8):
        try:
            r = http.get(path) if body is None else http.post(path, json=body)
        except httpx.TransportError:
            _retried(report, path, "connection")
            time.sleep(0.2 * 2 ** attempt)
            continue
        if r.status_code >= 500:
            _retried(report, path, r.status_code)
            time.sleep(float(r.headers.get("Retry-After", 0.2 * 2 ** attempt)) if r.status_code == 503
                       else 0.2 * 2 ** attempt)
            continue
        data = r.json()
        if r.status_code != 200:
            raise RuntimeError(f"{path} refused: {data.get('error')}")
        if timing is not None and "app;dur=" in r.headers.get("server-timing", ""):
            timing["app"] = float(r.headers["server-timing"].split("app;dur=")[1].split(",")[0]) / 1000
        return data
    raise RuntimeError(f"{path} failed eight times")


def simulate(url: str | list[str], participants: int, profile: dict, researcher_token: str, seed: int = 0,
             concurrency: int | None = None, think: float = 0.05, tokens: list[str] | None = None) -> Report:
    """Run ``participants`` simulated participants against the app at ``url`` (a list: the
    participants take turns among the app processes), at most ``concurrency`` at once (default:
    all). With ``tokens``, those participants resume instead."""
    urls = [url] if isinstance(url, str) else list(url)
    report = Report(participants=len(tokens) if tokens else participants)

    def one(i):
        try:
            participant(urls[i % len(urls)], profile, seed * 100_003 + i, report, researcher_token, think=think,
                        token=tokens[i] if tokens else None)
        except Exception as exc:  # reported, not raised: the others go on
            with report.lock:
                report.errors.append(f"participant {i}: {type(exc).__name__}: {exc}")

    with ThreadPoolExecutor(concurrency or report.participants) as pool:
        list(pool.map(one, range(report.participants)))
    return report
