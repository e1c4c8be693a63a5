"""Where FusionGAN finds its data and keeps its caches (the variables: :mod:`fusion.config`).

* Data folder: ``$FUSION_DATA``; otherwise ``../shared/data`` next to the project when it
  exists; otherwise ``./data`` in the project. The data is read at run time, never committed.
* Cache folder: ``$FUSION_CACHE``; otherwise ``.cache/`` in the project (git-ignored).
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from fusion import config

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """The data folder (see module docstring); it need not exist yet."""
    env = config.data_dir()
    if env:
        return env.resolve()
    shared = PROJECT_ROOT.parent / "shared" / "data"
    if shared.is_dir():
        return shared.resolve()
    return PROJECT_ROOT / "data"


def cache_dir() -> Path:
    """The cache folder, created on demand."""
    path = config.cache_dir() or PROJECT_ROOT / ".cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def wjazzd_dir() -> Path:
    return data_dir() / "wjazzd"


def essen_kern_dir() -> Path:
    return data_dir() / "essen"


def git_commit() -> dict:
    """The project's git commit and whether tracked files differ from it (for model cards and
    reports): ``{"commit": "<sha>" or "unknown", "dirty": bool}``."""
    def run(*args):
        try:
            return subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    return {"commit": run("rev-parse", "HEAD") or "unknown",
            "dirty": bool(run("status", "--porcelain", "--untracked-files=no"))}
