"""What the app tests and the benchmarks share: a free port on 127.0.0.1, and ``python app.py``
started as a visitor's machine starts it, polled until it answers.

    from tests.helpers import App, QUIET_ENV

    app = App(env=QUIET_ENV, log=tmp_path / "app.log")
    seconds = app.start()            # process start to the first answer of ``app.url + "/"``
    ...                              # talk to app.url (no trailing slash)
    app.stop()                       # SIGTERM; app.kill() is SIGKILL; app.start() again reuses the port

Used by ``tests/test_app.py``, ``tests/test_listening_app.py`` and ``bench/bench_demo.py`` (which
puts the project root on ``sys.path`` first). Only the standard library: importing this is free.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUIET_ENV = {"GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_DISABLE_TELEMETRY": "1"}  # no telemetry


class AppDidNotStart(RuntimeError):
    """The app exited, or did not answer in time; the message ends with the tail of its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (bound by the OS, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_answers(url: str, proc: subprocess.Popen | None = None, timeout: float = 120.0,
                       poll: float = 0.5, request_timeout: float = 2.0, log: Path | None = None) -> None:
    """Poll ``url`` until it answers HTTP 200.

    Parameters
    ----------
    url : str
        The address to GET.
    proc : subprocess.Popen, optional
        The server's process: if it exits first, :class:`AppDidNotStart` is raised at once.
    timeout : float
        Seconds to wait in all before :class:`AppDidNotStart`.
    poll : float
        Seconds between two attempts.
    request_timeout : float
        Seconds one attempt may take.
    log : Path, optional
        The server's log; its last 3,000 characters go into the error message."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AppDidNotStart(f"the app exited with status {proc.returncode}: {_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=request_timeout) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(poll)
    raise AppDidNotStart(f"the app did not answer at {url} within {timeout:.0f} s: {_tail(log)}")


def _tail(log: Path | None, n: int = 3000) -> str:
    if log is None or not Path(log).exists():
        return "(no log)"
    return Path(log).read_text(errors="replace")[-n:]


class App:
    """``python app.py --port PORT`` in the project root, in a subprocess.

    Parameters
    ----------
    port : int, optional
        The port on 127.0.0.1 (default: a free one).
    env : dict, optional
        Variables added to this process's environment (e.g. :data:`QUIET_ENV`, ``DATABASE_URL``).
    log : Path, optional
        A file that receives the app's stdout and stderr (appended to); default: discarded.
    answers : str
        The path polled until it answers 200 (``"/"``, the demo page; ``"/survey"``).
    timeout, poll, request_timeout : float
        Seconds, as for :func:`wait_until_answers`."""

    def __init__(self, port: int | None = None, env: dict | None = None, log: str | Path | None = None,
                 answers: str = "/", timeout: float = 120.0, poll: float = 0.5, request_timeout: float = 2.0):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **(env or {})}
        self.log_path = Path(log) if log is not None else None
        self.answers, self.timeout, self.poll, self.request_timeout = answers, timeout, poll, request_timeout
        self.proc: subprocess.Popen | None = None
        self.log = None

    def start(self) -> float:
        """Start the app and wait until it answers.

        Returns
        -------
        float
            Seconds from starting the process to its first answer.

        Raises
        ------
        AppDidNotStart
            It exited or did not answer within ``timeout`` (the process is killed first)."""
        t0 = time.perf_counter()
        self.log = open(self.log_path, "a") if self.log_path is not None else None
        out = self.log if self.log is not None else subprocess.DEVNULL
        self.proc = subprocess.Popen([sys.executable, "app.py", "--port", str(self.port)], cwd=ROOT, env=self.env,
                                     stdout=out, stderr=out)
        try:
            wait_until_answers(self.url + self.answers, self.proc, self.timeout, self.poll, self.request_timeout,
                               self.log_path)
        except AppDidNotStart:
            self.kill()
            raise
        return time.perf_counter() - t0

    def wait_settled(self, timeout: float = 300.0) -> None:
        """Wait until the app's background work is done (``/healthz`` says it is not loading: the
        warm-up melody, the corpora, the judge), so that what a test times is the app alone."""
        import json

        deadline = time.time() + timeout
        while True:
            with urllib.request.urlopen(self.url + "/healthz", timeout=10) as r:
                if not json.load(r)["loading"]:
                    return
            if time.time() > deadline:
                raise AppDidNotStart(f"{self.url} was still loading after {timeout:.0f} s")
            time.sleep(0.5)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM, and wait up to ``timeout`` seconds for the process to end."""
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=timeout)
        self._close_log()

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=20)
        self._close_log()

    def _close_log(self) -> None:
        if self.log is not None:
            self.log.close()
            self.log = None
