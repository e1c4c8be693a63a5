"""A small on-disk cache for parsed corpora, keyed by a hash of the sources and settings.

Parsing all Essen tunes with music21 takes minutes; a cached load takes about a second. The key
hashes every source file's path, size and modification time, the settings, the parser version
(:data:`PARSER_VERSION`, bumped whenever parsing changes) and the music21 version, so a changed
file or setting never returns stale data. Entries are pickles written atomically into
:func:`fusion.paths.cache_dir` (only files this module wrote are ever read).
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any, Callable

from fusion import paths

#: Bump when the parsed result of the same files changes.
PARSER_VERSION = 1


def fingerprint(files: list[Path], **settings: Any) -> str:
    """SHA-256 over the files' (path, size, mtime) and the JSON of ``settings``."""
    h = hashlib.sha256()
    h.update(json.dumps({"parser": PARSER_VERSION, "music21": version("music21"), **settings},
                        sort_keys=True, default=str).encode())
    for f in files:
        st = os.stat(f)
        h.update(f"{Path(f).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def cached(name: str, files: list[Path], build: Callable[[], Any], **settings: Any) -> Any:
    """``build()``'s result, from the cache when the sources and settings are unchanged."""
    key = fingerprint(files, name=name, **settings)[:20]
    path = paths.cache_dir() / f"{name}-{key}.pkl"
    if path.is_file():
        try:
            with open(path, "rb") as f:
                return pickle.load(f)
        except (EOFError, pickle.UnpicklingError, AttributeError, ImportError):
            path.unlink(missing_ok=True)  # a damaged or outdated entry is rebuilt
    value = build()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        for stale in path.parent.glob(f"{name}-*.pkl"):  # entries for older sources or settings
            if stale != path and len(stale.name) == len(path.name):
                stale.unlink(missing_ok=True)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return value
