"""Shared test set-up: no telemetry, the real data, and the parsed corpora (cached on disk, so
only the first run of a machine pays the parse)."""
import os
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import pytest  # noqa: E402

from fusion import corpus, paths  # noqa: E402


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        pytest.fail(f"{what} not found at {path}: set FUSION_DATA to the data folder "
                    f"(see ../shared/data/README.md)")
    return path


@pytest.fixture(scope="session")
def wjazzd_dir() -> Path:
    return _require(paths.wjazzd_dir(), "the Weimar Jazz Database")


@pytest.fixture(scope="session")
def essen_dir() -> Path:
    return _require(paths.essen_kern_dir(), "the Essen kern folder")


@pytest.fixture(scope="session")
def jazz_melodies(wjazzd_dir):
    return corpus.parsed("jazz", "csv")[0]


@pytest.fixture(scope="session")
def kern_parsed(essen_dir):
    return corpus.parsed("folk", "kern")


@pytest.fixture(scope="session")
def abc_parsed():
    return corpus.parsed("folk", "abc")
