"""Storage of the listening test: five tables, any SQLAlchemy database.

* ``stimuli``      -- one clip: its role (``qualification``, ``main`` or ``catch``), the system or
  control it stands for, the audio (WAV bytes) and MIDI, its length in seconds, its metadata;
* ``participants`` -- one attempt at the survey: the SHA-256 of its secret (the secret itself lives
  only in the participant's browser, in an HttpOnly cookie), the crowd platform's ids
  (``PROLIFIC_PID``, normalised and unique; ``STUDY_ID``, ``SESSION_ID``), the kind of device the
  page reported (phone, tablet, desktop), a resume code for a
  second device, a seed for their order, how many questions are answered, a completion code;
* ``assignments``  -- the clips a participant hears, by position, and when each was first served;
* ``answers``      -- one row per (participant, position, question); the unique key makes a
  retried request idempotent and a duplicate impossible, whatever the number of app processes;
* ``counters``     -- named counters; the row ``assign`` is the lock that makes clip assignment
  atomic (every start updates it first, so starts run one after another on every database).

The database is ``DATABASE_URL`` when set (e.g. ``postgresql+psycopg://user@127.0.0.1/survey``),
else a SQLite file ``survey.sqlite`` in the survey folder (``$FUSION_SURVEY_DIR``, default
``.survey/``), opened in WAL mode (readers never block the writer; a committed answer survives a
crash). Both variables are read through :mod:`fusion.config`.

**Never wait long.** A write that cannot get its lock within :data:`LOCK_WAIT_S` (SQLite's busy
timeout; PostgreSQL's ``lock_timeout``, with a ``statement_timeout`` of :data:`STATEMENT_S`) fails
at once with :class:`~sqlalchemy.exc.OperationalError`, which the web layer answers with 503 and
``Retry-After``: a locked or slow database costs a participant a retry, never a stalled server.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import (JSON, DateTime, Float, ForeignKey, Integer, LargeBinary, String, UniqueConstraint,
                        create_engine, event, insert, inspect, select, text)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
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
    system: Mapped[str] = mapped_column(String(32), index=True)  # rm .. hybrid | real jazz | real folk | real medley | real hybrid | catch
    genre: Mapped[str | None] = mapped_column(String(8), nullable=True)  # the true genre of a real clip
    seconds: Mapped[float] = mapped_column(Float)
    audio: Mapped[bytes] = mapped_column(LargeBinary)
    midi: Mapped[bytes] = mapped_column(LargeBinary)
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class Participant(Base):
    __tablename__ = "participants"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)  # sha256 hex of the cookie
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)  # PROLIFIC_PID
    study_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    session_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    device: Mapped[str | None] = mapped_column(String(16), nullable=True)  # phone | tablet | desktop (the page's guess)
    sound_check: Mapped[str | None] = mapped_column(String(16), nullable=True)  # passed | failed (the last try)
    sound_tries: Mapped[int] = mapped_column(Integer, default=0)
    headphone_check: Mapped[str | None] = mapped_column(String(16), nullable=True)  # e.g. "passed 6/6" (the last try)
    resume_code: Mapped[str] = mapped_column(String(16), unique=True)
    seed: Mapped[int] = mapped_column(Integer)
    answered: Mapped[int] = mapped_column(Integer, default=0)  # questions answered so far (the next step)
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


class Counter(Base):
    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


LOCK_WAIT_S = 0.5  # longest wait for a lock before a request is answered 503
STATEMENT_S = 5.0  # longest statement on PostgreSQL
#: the columns each table must have; an older database lacking one is rebuilt (if no one started) or refused
REQUIRED = {"participants": {"secret_hash", "resume_code", "answered", "study_id", "session_id", "device",
                                  "sound_check", "sound_tries", "headphone_check"}}


GATE_WAIT_S = 5.0  # longest wait in the process's queue of SQLite writers before a 503


class Busy(OperationalError):
    """The database is busy: a write could not start in time (answered 503 with Retry-After)."""

    def __init__(self, message: str = "the database is busy"):
        super().__init__(message, None, Exception(message))


class WriteGate:
    """The queue of one process's writes to a SQLite database.

    SQLite has one writer at a time; its own busy handler makes waiting writers poll with growing
    sleeps, so under a burst some wait past the short :data:`LOCK_WAIT_S` although the database is
    only briefly taken. Here the process's writers queue on a lock instead (handed over at once),
    and only the one in front waits on SQLite. When that one finds the database locked from outside
    (another process, a backup), the writers behind it are refused at once for the next
    :data:`LOCK_WAIT_S` rather than each waiting in turn. On PostgreSQL the gate is open: rows are
    locked one by one there, and many writers proceed at once."""

    def __init__(self, engine: Engine | None):
        self.enabled = engine is not None and engine.dialect.name == "sqlite"
        self._lock = threading.Lock()
        self._busy_until = 0.0

    @contextmanager
    def __call__(self):
        if not self.enabled:
            yield
            return
        if not self._lock.acquire(timeout=GATE_WAIT_S):
            raise Busy("too many writers are waiting")
        try:
            if time.monotonic() < self._busy_until:
                raise Busy("the database is locked by another process")
            try:
                yield
            except OperationalError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    self._busy_until = time.monotonic() + LOCK_WAIT_S
                raise
        finally:
            self._lock.release()


class SchemaError(RuntimeError):
    """The database was made by an older version of the survey and holds participants."""


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
        # more connections than worker threads (the survey's 9, the results' share of FastAPI's 40): a
        # request that waits in the WriteGate holds its connection, so a smaller pool would starve
        # the writer in front
        engine = create_engine(url, connect_args={"timeout": LOCK_WAIT_S, "check_same_thread": False},
                               pool_size=40, max_overflow=10, pool_timeout=LOCK_WAIT_S * 4)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(conn, _record):
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")  # an acknowledged answer is on disk
            cur.execute(f"PRAGMA busy_timeout={int(LOCK_WAIT_S * 1000)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
    else:
        options = f"-c lock_timeout={int(LOCK_WAIT_S * 1000)} -c statement_timeout={int(STATEMENT_S * 1000)}"
        engine = create_engine(url, pool_pre_ping=True, pool_size=40, max_overflow=10,  # more than the worker threads
                               pool_timeout=LOCK_WAIT_S * 4, connect_args={"options": options})
    _upgrade(engine)
    Base.metadata.create_all(engine)
    try:
        with engine.begin() as conn:  # the assignment lock's row
            if conn.execute(select(Counter.value).where(Counter.name == "assign")).first() is None:
                conn.execute(insert(Counter).values(name="assign", value=0))
    except IntegrityError:  # another process made it at the same moment
        pass
    return engine


def _upgrade(engine: Engine) -> None:
    """Rebuild the participant tables of a database made by an older version, if no one has
    started on it; otherwise raise :class:`SchemaError` (the answers are never dropped)."""
    tables = inspect(engine).get_table_names()
    stale = [t for t, cols in REQUIRED.items()
             if t in tables and not cols <= {c["name"] for c in inspect(engine).get_columns(t)}]
    if not stale:
        return
    with engine.connect() as conn:
        started = conn.execute(text("SELECT count(*) FROM participants")).scalar()
    if started:
        raise SchemaError(f"the survey database {engine.url.render_as_string(hide_password=True)} was made by an "
                          f"older FusionGAN and holds {started} participants: keep it for its answers and start "
                          "a new database (DATABASE_URL or FUSION_SURVEY_DIR), then `python -m listening_test prepare`")
    with engine.begin() as conn:
        for t in ("answers", "assignments", "participants"):
            if t in tables:
                conn.execute(text(f"DROP TABLE {t}"))


def sessions(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)
