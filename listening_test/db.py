"""Storage of the listening test: four tables, any SQLAlchemy database.

* ``stimuli``      -- one clip: its role (``qualification``, ``main`` or ``catch``), the system or
  control it stands for, the audio (WAV bytes) and MIDI, its length in seconds, its metadata;
* ``participants`` -- a token (secret, in the participant's URL), the crowd platform's id
  (``PROLIFIC_PID``, unique), a seed for their order, a completion code;
* ``assignments``  -- the clips a participant hears, by position, and when each was first served;
* ``answers``      -- one row per (participant, position, question); the unique key makes a
  retried request idempotent and a duplicate impossible, whatever the number of app processes.

The database is ``DATABASE_URL`` when set (e.g. ``postgresql+psycopg://user@127.0.0.1/survey``),
else a SQLite file ``survey.sqlite`` in the survey folder (``$FUSION_SURVEY_DIR``, default
``.survey/``), opened in WAL mode (readers never block the writer; a committed answer survives a
crash) with a busy timeout, so that concurrent participants queue instead of failing. Both
variables are read through :mod:`fusion.config`.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import (JSON, DateTime, Float, ForeignKey, Integer, LargeBinary, String, UniqueConstraint,
                        create_engine, event)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from fusion import config, paths


def now() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Stimulus(Base):
    __tablename__ = "stimuli"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(16), index=True)  # qualification | main | catch
    system: Mapped[str] = mapped_column(String(32), index=True)  # rm .. fusion | real jazz | real folk | catch
    genre: Mapped[str | None] = mapped_column(String(8), nullable=True)  # the true genre of a real clip
    seconds: Mapped[float] = mapped_column(Float)
    audio: Mapped[bytes] = mapped_column(LargeBinary)
    midi: Mapped[bytes] = mapped_column(LargeBinary)
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class Participant(Base):
    __tablename__ = "participants"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    external_id: Mapped[str | None] = mapped_column(String(128), unique=True, nullable=True)
    seed: Mapped[int] = mapped_column(Integer)
    completion_code: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("participant_id", "position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    stimulus_id: Mapped[int] = mapped_column(ForeignKey("stimuli.id"), index=True)
    phase: Mapped[str] = mapped_column(String(16))  # qualification | main
    served_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("participant_id", "position", "question"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    question: Mapped[str] = mapped_column(String(16))  # genre | fusion | musicality
    choice: Mapped[str] = mapped_column(String(16))
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


def survey_dir() -> Path:
    """``$FUSION_SURVEY_DIR``, or ``.survey/`` in the project."""
    return config.survey_dir() or paths.PROJECT_ROOT / ".survey"


def database_url() -> str:
    """``DATABASE_URL``, or the SQLite file in :func:`survey_dir`."""
    url = config.database_url()
    if url:
        return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url
    folder = survey_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'survey.sqlite'}"


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (default :func:`database_url`) with the tables created."""
    url = url or database_url()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(conn, _record):
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")  # an acknowledged answer is on disk
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=40, max_overflow=10)  # one per worker thread
    Base.metadata.create_all(engine)
    return engine


def sessions(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)
