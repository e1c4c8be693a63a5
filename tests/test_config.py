"""fusion.config: every environment variable in one table, read when asked (defaults, overrides,
empty values), and the modules that use them (paths, the survey database, the results password)."""
import os
import re
from pathlib import Path

import pytest

from fusion import config, paths
from listening_test import db, web

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def clean_env(monkeypatch):
    """None of the project's variables set."""
    for name in config.NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults(clean_env):
    assert config.host() == "127.0.0.1" and config.port() == 7860
    assert config.researcher_token() is None and web.researcher_token() is None
    assert config.database_url() is None and config.browser_path() is None
    assert config.data_dir() is None and config.cache_dir() is None and config.survey_dir() is None
    assert paths.cache_dir() == paths.PROJECT_ROOT / ".cache"
    assert db.survey_dir() == paths.PROJECT_ROOT / ".survey"
    shared = paths.PROJECT_ROOT.parent / "shared" / "data"
    assert paths.data_dir() == (shared.resolve() if shared.is_dir() else paths.PROJECT_ROOT / "data")


def test_overrides_are_read_when_asked(clean_env, tmp_path):
    clean_env.setenv("FUSION_DATA", str(tmp_path / "data"))
    clean_env.setenv("FUSION_CACHE", str(tmp_path / "cache"))
    clean_env.setenv("FUSION_SURVEY_DIR", str(tmp_path / "survey"))
    clean_env.setenv("FUSION_RESEARCHER_TOKEN", "secret")
    clean_env.setenv("FUSION_HOST", "0.0.0.0")
    clean_env.setenv("FUSION_PORT", "8123")
    clean_env.setenv("BROWSER_PATH", "/opt/chromium")
    assert paths.data_dir() == (tmp_path / "data").resolve()
    assert paths.cache_dir() == tmp_path / "cache" and (tmp_path / "cache").is_dir()
    assert db.survey_dir() == tmp_path / "survey"
    assert db.database_url() == f"sqlite:///{tmp_path / 'survey' / 'survey.sqlite'}"
    assert web.researcher_token() == "secret"
    assert (config.host(), config.port(), config.browser_path()) == ("0.0.0.0", 8123, "/opt/chromium")
    clean_env.setenv("DATABASE_URL", "postgresql://survey@127.0.0.1/survey")
    assert config.database_url() == "postgresql://survey@127.0.0.1/survey"
    assert db.database_url() == "postgresql+psycopg://survey@127.0.0.1/survey"


def test_home_is_expanded(clean_env):
    clean_env.setenv("FUSION_DATA", "~/fusion-data")
    clean_env.setenv("FUSION_SURVEY_DIR", "~/survey")
    assert paths.data_dir() == (Path.home() / "fusion-data").resolve()
    assert db.survey_dir() == Path.home() / "survey"


def test_empty_means_unset(clean_env):
    for name in config.NAMES:
        clean_env.setenv(name, "")
    assert config.researcher_token() is None and config.database_url() is None
    assert config.host() == "127.0.0.1" and config.port() == 7860
    assert db.survey_dir() == paths.PROJECT_ROOT / ".survey"


@pytest.mark.parametrize("value", ["http", "0", "65536", "80.5"])
def test_a_bad_port_is_a_clear_error(clean_env, value):
    clean_env.setenv("FUSION_PORT", value)
    with pytest.raises(ValueError, match="FUSION_PORT must be a port number"):
        config.port()


def test_unknown_names_are_refused():
    with pytest.raises(KeyError, match="not one of FusionGAN's environment variables"):
        config.get("FUSION_DATAS")


def test_quiet_telemetry_keeps_what_is_set(clean_env):
    clean_env.setenv("GRADIO_ANALYTICS_ENABLED", "True")
    clean_env.delenv("HF_HUB_DISABLE_TELEMETRY", raising=False)
    config.quiet_telemetry()
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "True"
    assert os.environ["HF_HUB_DISABLE_TELEMETRY"] == "1"


READS = re.compile(r"""(?:environ\.get\(|environ\[|getenv\(|environ\.setdefault\()\s*["']([A-Z0-9_]+)["']""")


def test_the_scan_below_finds_reads_of_the_environment():
    code = 'a = os.environ.get("ONE")\nb = os.environ["TWO"]\nc = os.getenv( "THREE")\nos.environ.setdefault("FOUR", "1")'
    assert READS.findall(code) == ["ONE", "TWO", "THREE", "FOUR"]


def test_every_variable_read_outside_config_is_in_the_table():
    files = [ROOT / "app.py", *(ROOT / "fusion").rglob("*.py"), *(ROOT / "listening_test").rglob("*.py")]
    named = {(f.relative_to(ROOT).as_posix(), name) for f in files if f.name != "config.py"
             for name in READS.findall(f.read_text())}
    undocumented = sorted((f, n) for f, n in named if n not in config.NAMES)
    assert not undocumented, f"read but not in fusion.config.VARIABLES: {undocumented}"


def test_the_table_is_in_the_docstring_and_the_readme():
    readme = (ROOT / "README.md").read_text()
    assert "## Configuration" in readme
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    for v in config.VARIABLES:
        assert f"`{v.name}`" in section, v.name
        assert f"``{v.name}``" in config.__doc__, v.name


def test_survey_settings(clean_env):
    assert config.completion_url() is None and config.starts_per_hour() == 60
    clean_env.setenv("FUSION_COMPLETION_URL", "https://app.prolific.com/submissions/complete?cc={code}")
    clean_env.setenv("FUSION_STARTS_PER_HOUR", "0")
    assert config.completion_url().endswith("cc={code}") and config.starts_per_hour() == 0
    for bad in ("javascript:alert(1)//{code}", "https://example.org/done"):
        clean_env.setenv("FUSION_COMPLETION_URL", bad)
        with pytest.raises(ValueError, match="FUSION_COMPLETION_URL"):
            config.completion_url()
    clean_env.setenv("FUSION_STARTS_PER_HOUR", "-1")
    with pytest.raises(ValueError, match="FUSION_STARTS_PER_HOUR"):
        config.starts_per_hour()
