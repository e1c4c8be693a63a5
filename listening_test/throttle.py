"""Rate limits of the survey and the results page: at most ``limit`` events per client address in
a sliding window of ``window`` seconds.

Used for new survey attempts per address (``FUSION_STARTS_PER_HOUR``), failed resume codes and
failed researcher logins. The counts live in the memory of one app process: with several worker
processes, each keeps its own, so a client gets at most ``workers x limit`` (documented in
``docs/method.md``). Behind a reverse proxy, the client address is the proxy's unless uvicorn is
told to trust its ``X-Forwarded-For`` (``FORWARDED_ALLOW_IPS``).
"""
from __future__ import annotations

import threading
import time
from collections import deque


class Throttle:
    """``limit`` events per key per ``window`` seconds (``limit`` 0: no limit)."""

    def __init__(self, limit: int, window: float, clock=time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._events: dict[str, deque] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, t: float) -> deque:
        q = self._events.setdefault(key, deque())
        while q and q[0] <= t - self.window:
            q.popleft()
        if len(self._events) > 10_000:  # forget idle keys, so that memory stays bounded
            for k in [k for k, v in self._events.items() if not v and k != key]:
                del self._events[k]
        return q

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may act again; 0 when it may act now."""
        if not self.limit:
            return 0.0
        with self._lock:
            t = self.clock()
            q = self._recent(key, t)
            return 0.0 if len(q) < self.limit else max(0.0, q[0] + self.window - t)

    def record(self, key: str) -> None:
        if not self.limit:
            return
        with self._lock:
            t = self.clock()
            self._recent(key, t).append(t)

    def clear(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)
