"""Shared test set-up: no telemetry, the real data, and the parsed corpora (cached on disk, so
only the first run of a machine pays the parse).

Test lanes (markers registered in ``pyproject.toml``): ``data`` needs the real corpora, ``slow``
takes more than a few seconds, ``browser`` drives Chromium, ``postgres`` starts PostgreSQL.
``make test`` runs every lane; ``make test-fast`` only the tests with none of these marks. A test
that asks for a fixture below which reads the data is put in the ``data`` lane (and one that asks
for ``postgres_url`` in the ``postgres`` lane) even when its file forgot the mark."""
import os
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import pytest  # noqa: E402

from fusion import paths  # noqa: E402
from fusion.data import corpus


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


# test lanes ------------------------------------------------------------------------------------
DATA_FIXTURES = {"wjazzd_dir", "essen_dir", "jazz_melodies", "kern_parsed", "abc_parsed", "survey_pool",
                 "fresh_survey_db"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & DATA_FIXTURES and not item.get_closest_marker("data"):
            item.add_marker(pytest.mark.data)
        if "postgres_url" in used and not item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.postgres)


# the listening test ------------------------------------------------------------------------------
POOL = dict(per_system=2, qualification=3, catch=2, bars=1, tempo=240.0, seed=0)  # 1-second clips


@pytest.fixture(scope="session")
def survey_pool(tmp_path_factory, wjazzd_dir, essen_dir):
    """A small prepared stimulus pool in a SQLite file; tests copy it (``fresh_survey_db``)."""
    from listening_test import db, stimuli

    folder = tmp_path_factory.mktemp("pool")
    url = f"sqlite:///{folder / 'survey.sqlite'}"
    engine = db.make_engine(url)
    stimuli.prepare(db.sessions(engine), log=lambda m: None, **POOL)
    engine.dispose()
    return folder / "survey.sqlite"


@pytest.fixture
def fresh_survey_db(survey_pool, tmp_path):
    """A copy of the prepared pool, no participants yet: its SQLAlchemy URL."""
    import shutil

    target = tmp_path / "survey.sqlite"
    shutil.copyfile(survey_pool, target)
    return f"sqlite:///{target}"


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory):
    """A real PostgreSQL server (Debian's postgresql, installed by `make test`) started for the
    tests on 127.0.0.1 in a temporary folder, as the ``postgres`` user; its URL."""
    import shutil
    import socket
    import subprocess

    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    if not bindir or shutil.which("runuser") is None:
        pytest.fail("PostgreSQL is missing: apt-get install -y postgresql (make test does it)")
    bindir = bindir[-1]
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="fusion-pg-"))  # not under pytest's root-only folder
    data = folder / "data"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    as_root = os.geteuid() == 0
    if as_root:
        shutil.chown(folder, "postgres")
        folder.chmod(0o700)

    def run(*cmd):
        full = ["runuser", "-u", "postgres", "--", *map(str, cmd)] if as_root else list(map(str, cmd))
        subprocess.run(full, check=True, capture_output=True, timeout=120)

    run(bindir / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
    run(bindir / "pg_ctl", "-D", data, "-l", folder / "log", "-w", "-o",
        f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=on -c max_connections=200", "start")
    try:
        run(bindir / "createdb", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "survey")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/survey"
    finally:
        run(bindir / "pg_ctl", "-D", data, "-m", "fast", "stop")
        shutil.rmtree(folder, ignore_errors=True)
