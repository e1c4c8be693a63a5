"""Every environment variable FusionGAN reads, in one place.

============================  ======================================  ==============================================
Variable                      Default (when unset or empty)           Meaning
============================  ======================================  ==============================================
``FUSION_DATA``               ``../shared/data`` next to the project  The data folder: the Weimar Jazz Database and
                              when it exists, else ``./data``         the Essen collection (:mod:`fusion.paths`).
``FUSION_CACHE``              ``.cache/`` in the project              Parsed corpora, the fitted judge and other
                                                                      caches (:mod:`fusion.paths`).
``DATABASE_URL``              SQLite ``survey.sqlite`` in the survey  The listening test's database, any SQLAlchemy
                              folder                                  URL; ``postgresql://`` means psycopg 3
                                                                      (:mod:`listening_test.db`).
``FUSION_SURVEY_DIR``         ``.survey/`` in the project             Folder of the SQLite survey database when
                                                                      ``DATABASE_URL`` is unset.
``FUSION_RESEARCHER_TOKEN``   none: the results pages are disabled    The researchers' password for ``/results``
                                                                      (:mod:`listening_test.web`); ``python -m
                                                                      listening_test simulate`` needs the running
                                                                      app's.
``FUSION_COMPLETION_URL``     none: the code is shown, no redirect    Where a finished participant is sent, with
                                                                      ``{code}`` replaced by their completion code
                                                                      (e.g. Prolific's ``https://app.prolific.com/
                                                                      submissions/complete?cc={code}``).
``FUSION_CONTACT``            none: "the researcher named in your     Who participants contact about the survey
                              study's description"                    (an e-mail address or a name), shown with the
                                                                      consent.
``FUSION_HEADPHONE_CHECK``    off                                     ``1``: participants take a headphone check
                                                                      (antiphase tones, Woods et al. 2017) before
                                                                      the first clip.
``FUSION_STARTS_PER_HOUR``    ``60``                                  New survey attempts one client address may
                                                                      start per hour, per app process (0: no limit).
``FUSION_HOST``               ``127.0.0.1``                           Where ``app.py`` listens (``--host`` wins).
``FUSION_PORT``               ``7860``                                The port of ``app.py`` (``--port`` wins).
``GRADIO_ANALYTICS_ENABLED``  ``False``, set by ``app.py`` (and the   Gradio's usage analytics, kept off so that
                              tests) unless already set               nothing leaves the machine.
``HF_HUB_DISABLE_TELEMETRY``  ``1``, set likewise                     Hugging Face Hub telemetry (Gradio imports the
                                                                      Hub), kept off likewise.
``BROWSER_PATH``              ``chromium`` (or ``chromium-browser``)  The Chromium that Kaleido drives to write PNG
                              on the ``PATH``                         figures (:mod:`fusion.render.plots`).
============================  ======================================  ==============================================

The same table is in the README ("Configuration"); :data:`VARIABLES` holds it for code and tests.
Every accessor reads the environment when called, never at import, so a variable set later (by a
test's ``monkeypatch.setenv``, or before a subprocess starts) takes effect. An empty value counts
as unset.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Variable:
    """One environment variable: its name, its default in words, and what it sets."""

    name: str
    default: str
    meaning: str


VARIABLES: tuple[Variable, ...] = (
    Variable("FUSION_DATA", "../shared/data next to the project when it exists, else ./data", "the data folder"),
    Variable("FUSION_CACHE", ".cache/ in the project", "the cache folder (parsed corpora, the fitted judge)"),
    Variable("DATABASE_URL", "SQLite survey.sqlite in the survey folder", "the listening test's database"),
    Variable("FUSION_SURVEY_DIR", ".survey/ in the project", "folder of the SQLite survey database"),
    Variable("FUSION_RESEARCHER_TOKEN", "none: the results pages are disabled", "the researchers' password"),
    Variable("FUSION_COMPLETION_URL", "none: the completion code is shown, no redirect",
             "where a finished participant is sent ({code} is replaced by the completion code)"),
    Variable("FUSION_CONTACT", "none: the researcher named in the study's description",
             "who participants contact about the survey, shown with the consent"),
    Variable("FUSION_HEADPHONE_CHECK", "off", "1: participants take a headphone check before the first clip"),
    Variable("FUSION_STARTS_PER_HOUR", "60", "new survey attempts per client address per hour (0: no limit)"),
    Variable("FUSION_HOST", "127.0.0.1", "where app.py listens"),
    Variable("FUSION_PORT", "7860", "the port of app.py"),
    Variable("GRADIO_ANALYTICS_ENABLED", "False (set by app.py unless already set)", "Gradio's usage analytics"),
    Variable("HF_HUB_DISABLE_TELEMETRY", "1 (set by app.py unless already set)", "Hugging Face Hub telemetry"),
    Variable("BROWSER_PATH", "chromium or chromium-browser on the PATH", "the Chromium for PNG figures"),
)
NAMES = frozenset(v.name for v in VARIABLES)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
#: what :func:`quiet_telemetry` sets unless already set
TELEMETRY_OFF = {"GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_DISABLE_TELEMETRY": "1"}


def get(name: str) -> str | None:
    """The value of the documented variable ``name``, or None when it is unset or empty."""
    if name not in NAMES:
        raise KeyError(f"{name} is not one of FusionGAN's environment variables (fusion.config.VARIABLES)")
    return os.environ.get(name) or None


def _path(name: str) -> Path | None:
    value = get(name)
    return Path(value).expanduser() if value else None


def data_dir() -> Path | None:
    """``$FUSION_DATA`` as a path, or None (then :func:`fusion.paths.data_dir` looks for the default)."""
    return _path("FUSION_DATA")


def cache_dir() -> Path | None:
    """``$FUSION_CACHE`` as a path, or None (then :func:`fusion.paths.cache_dir` uses ``.cache/``)."""
    return _path("FUSION_CACHE")


def survey_dir() -> Path | None:
    """``$FUSION_SURVEY_DIR`` as a path, or None (then :func:`listening_test.db.survey_dir` uses ``.survey/``)."""
    return _path("FUSION_SURVEY_DIR")


def database_url() -> str | None:
    """``$DATABASE_URL`` as given, or None (then the survey uses SQLite: :func:`listening_test.db.database_url`)."""
    return get("DATABASE_URL")


def researcher_token() -> str | None:
    """``$FUSION_RESEARCHER_TOKEN``, or None: the results pages are then disabled."""
    return get("FUSION_RESEARCHER_TOKEN")


DEFAULT_STARTS_PER_HOUR = 60


def completion_url() -> str | None:
    """``$FUSION_COMPLETION_URL``, or None. Raises ValueError unless it is an http(s) URL with
    ``{code}`` in it (where the completion code goes)."""
    value = get("FUSION_COMPLETION_URL")
    if value is None:
        return None
    if not value.startswith(("https://", "http://")) or "{code}" not in value:
        raise ValueError("FUSION_COMPLETION_URL must be an http(s) URL containing {code}, e.g. "
                         f"https://app.prolific.com/submissions/complete?cc={{code}}; got {value!r}")
    return value


def contact() -> str | None:
    """``$FUSION_CONTACT``, or None: who participants contact about the survey."""
    return get("FUSION_CONTACT")


def headphone_check() -> bool:
    """``$FUSION_HEADPHONE_CHECK`` is ``1``: the survey asks for a headphone check."""
    value = get("FUSION_HEADPHONE_CHECK")
    if value not in (None, "0", "1"):
        raise ValueError(f"FUSION_HEADPHONE_CHECK must be 0 or 1, got {value!r}")
    return value == "1"


def starts_per_hour() -> int:
    """``$FUSION_STARTS_PER_HOUR``, default 60: new survey attempts per client address per hour
    (0: no limit). Raises ValueError unless a whole number >= 0."""
    value = get("FUSION_STARTS_PER_HOUR")
    if value is None:
        return DEFAULT_STARTS_PER_HOUR
    if not value.isdigit():
        raise ValueError(f"FUSION_STARTS_PER_HOUR must be a whole number >= 0, got {value!r}")
    return int(value)


def host() -> str:
    """``$FUSION_HOST``, default ``127.0.0.1``: the app's address."""
    return get("FUSION_HOST") or DEFAULT_HOST


def port() -> int:
    """``$FUSION_PORT``, default 7860: the app's port. Raises ValueError unless a port number."""
    value = get("FUSION_PORT")
    if value is None:
        return DEFAULT_PORT
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"FUSION_PORT must be a port number (1..65535), got {value!r}") from None
    if not 1 <= number <= 65535:
        raise ValueError(f"FUSION_PORT must be a port number (1..65535), got {value!r}")
    return number


def browser_path() -> str | None:
    """``$BROWSER_PATH``, or None (then :func:`fusion.render.plots.browser` looks for ``chromium``)."""
    return get("BROWSER_PATH")


def quiet_telemetry() -> None:
    """Turn Gradio's analytics and the Hugging Face Hub's telemetry off, unless the environment
    already says otherwise. Call it before importing gradio (``app.py`` does, first thing)."""
    for name, value in TELEMETRY_OFF.items():
        os.environ.setdefault(name, value)


__all__ = ["VARIABLES", "Variable", "browser_path", "cache_dir", "completion_url", "contact", "data_dir", "headphone_check", "database_url", "get",
           "host", "port", "quiet_telemetry", "researcher_token", "starts_per_hour", "survey_dir"]
