"""A participant's path through the listening test, and every rule an answer must pass.

Steps (the paper's three, plus consent and a completion code):

1. ``begin``: after consent, an *attempt* is created. Its key is a random 144-bit secret that only
   the participant's browser holds (the web layer keeps it in an HttpOnly cookie; the database
   keeps its SHA-256). The crowd platform's ids (``PROLIFIC_PID``, ``STUDY_ID``, ``SESSION_ID``)
   are recorded, never trusted: a PID identifies, it does not authenticate. The clips are assigned
   at once;
2. qualification: ``qualification`` real clips, as many jazz as folk (the odd one from the genre
   heard least so far), question
   ``genre``: jazz / folk / neither; the labelled examples of the introduction are qualification
   clips of each genre that the attempt is not asked about;
3. for each main clip: ``fusion`` (pure jazz / pure folk / mixture / neither), then
   ``musicality`` (expert / newbie / robot) for the same clip;
4. a completion code (and the study's completion URL, when configured).

**Identity.** The browser's secret opens the attempt. A PID already used by an attempt that this
browser does not hold is refused with a clear message (status 409, ``reason: "elsewhere"``): the
second device continues only with the attempt's *resume code* (shown to the participant on every
page), which moves the attempt to the new browser. A PID in the link that differs from the
browser's attempt starts a new attempt (a shared lab computer: the second person is never given
the first person's session). Ids are normalised (:func:`normalise_id`: Unicode NFKC, trimmed,
case-folded, 1 to 64 printable characters, no spaces), so ``ABC`` and ``abc`` are one person.

**Balance.** Every participant hears exactly one clip of each system and of each control
(:data:`MAIN_GROUPS` that the pool holds clips of, :func:`pool_groups`), so every system receives the same number of answers however many
participants finish, and whichever app process served them. Within a system, the clip assigned
least often so far is chosen (ties at random), counting the attempts that have answered at least
one question or began less than :data:`ABANDON_AFTER` ago (abandoned attempts stop counting).
Assignment is atomic: every start first updates the ``assign`` counter row, which serialises
starts on SQLite and PostgreSQL alike (across app processes too), so the spread within a system
stays at most one under any concurrency; within one process, starts queue on a lock first, so that
a burst waits in the process rather than on the database's short lock timeout. The order of the main clips is shuffled from the participant's seed; the catch trials
are spread evenly through them.

**Rules for an answer** (checked on the server, in one short transaction: one read, one insert,
one guarded update): the attempt must be known; the choice must be one of the question's; the
(position, question) must be the participant's current one (clips are answered in order, each
question once); a retried request with the same answer is acknowledged again and changes nothing,
a different answer to an answered question is refused; the first question of a clip is refused
until the clip's length has passed since its audio was first served.
"""
from __future__ import annotations

import hashlib
import random
import secrets
import string
import threading
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from listening_test.db import Answer, Assignment, Counter, Participant, Stimulus, WriteGate, now
from listening_test.stimuli import CONTROLS, SYSTEMS

QUESTIONS = {"genre": ("jazz", "folk", "neither"),
             "fusion": ("jazz", "folk", "mixture", "neither"),
             "musicality": ("expert", "newbie", "robot")}
PHASE_QUESTIONS = {"qualification": ("genre",), "main": ("fusion", "musicality")}
MAIN_GROUPS = SYSTEMS + CONTROLS
TOLERANCE_S = 0.25  # clock and network slack on the "listened to the whole clip" rule
DEVICES = ("phone", "tablet", "desktop")
HEADPHONE_TRIALS, HEADPHONE_PASS = 6, 5  # Woods et al. (2017): 6 trials, pass with 5 right
ABANDON_AFTER = timedelta(minutes=30)  # an attempt with no answer after this stops counting for balance
START_WAIT_S = 10.0  # longest wait of a start behind the other starts of this process
ID_MAX = 64
SECRET_BYTES = 18  # 144 bits
RESUME_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U: read aloud and typed on phones
RESUME_LENGTH = 10  # 30**10: 49 bits


def pool_groups(pool: dict) -> list[str]:
    """The main groups (:data:`MAIN_GROUPS`, in order) that a stimulus pool holds clips of. A pool
    prepared before a system joined the test keeps its survey running without that system: its
    participants hear what the pool holds, and the results count what they heard."""
    return [g for g in MAIN_GROUPS if pool.get(("main", g))]


class SurveyError(Exception):
    """A refused request: ``status`` (HTTP code), a message for the participant, and optionally a
    machine-readable ``reason`` (e.g. ``"elsewhere"``, ``"no_attempt"``)."""

    def __init__(self, status: int, message: str, reason: str | None = None):
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason


@dataclass(frozen=True)
class Design:
    qualification: int = 3
    catch: int = 2


@dataclass(frozen=True)
class Ids:
    """The crowd platform's ids of an attempt, already normalised (:func:`normalise_id`)."""

    participant: str | None = None  # PROLIFIC_PID
    study: str | None = None  # STUDY_ID
    session: str | None = None  # SESSION_ID

    @classmethod
    def of(cls, participant=None, study=None, session=None) -> "Ids":
        return cls(normalise_id(participant, "PROLIFIC_PID"), normalise_id(study, "STUDY_ID"),
                   normalise_id(session, "SESSION_ID"))


def normalise_id(value, name: str = "the participant id") -> str | None:
    """A platform id as stored: NFKC, trimmed, case-folded; None for None or blank. Raises
    :class:`SurveyError` (400) unless it is text of 1 to :data:`ID_MAX` printable characters
    without spaces."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise SurveyError(400, f"{name} must be text")
    v = unicodedata.normalize("NFKC", value).strip().casefold()
    if not v:
        return None
    if len(v) > ID_MAX or not v.isprintable() or any(c.isspace() for c in v):
        raise SurveyError(400, f"{name} must be 1 to {ID_MAX} printable characters without spaces")
    return v


def secret_hash(secret: str) -> str:
    """What the database keeps of a browser's secret: its SHA-256, hex."""
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def valid_secret(secret) -> bool:
    """Whether a cookie value can be a secret we issued (URL-safe base64 of 18 bytes)."""
    return isinstance(secret, str) and len(secret) == 24 and all(c.isalnum() or c in "-_" for c in secret)


def normalise_resume_code(code) -> str:
    if not isinstance(code, str):
        raise SurveyError(400, "the resume code must be text")
    c = "".join(ch for ch in unicodedata.normalize("NFKC", code).upper() if ch not in " -")
    if len(c) != RESUME_LENGTH or any(ch not in RESUME_ALPHABET for ch in c):
        raise SurveyError(400, f"a resume code has {RESUME_LENGTH} letters and digits, like ABCDE-FGH23")
    return c


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)  # SQLite returns naive datetimes


@dataclass(frozen=True)
class Clip:
    """One assigned clip as the flow sees it: no audio, no system name."""

    id: int  # assignment id
    position: int
    phase: str
    stimulus_id: int
    seconds: float
    served_at: datetime | None


@dataclass(frozen=True)
class Attempt:
    """A participant's attempt and its clips, read in one query (:meth:`Survey._load`)."""

    id: int
    answered: int
    resume_code: str
    completion_code: str
    external_id: str | None
    clips: tuple[Clip, ...]
    sound_check: str | None = None
    headphone_check: str | None = None

    @property
    def steps(self) -> list[tuple[Clip, str]]:
        """Every (clip, question) in the order they are answered."""
        return [(c, q) for c in self.clips for q in PHASE_QUESTIONS[c.phase]]


#: a participant's attempt and its clips, by the hash of the browser's secret (:meth:`Survey._load`):
#: built once, since building the statement per request cost about as much CPU as running it
ATTEMPT_QUERY = (
    select(Participant.id, Participant.answered, Participant.resume_code, Participant.completion_code,
           Participant.external_id, Participant.sound_check, Participant.headphone_check, Assignment.id,
           Assignment.position, Assignment.phase, Assignment.stimulus_id, Assignment.served_at, Stimulus.seconds)
    .join(Assignment, Assignment.participant_id == Participant.id)
    .join(Stimulus, Stimulus.id == Assignment.stimulus_id)
    .where(Participant.secret_hash == bindparam("secret_hash"))
    .order_by(Assignment.position))
#: one answer (its time of saving from the column's default), as a plain insert into the table: the
#: ORM's unit of work cost 1.3-1.6 times the CPU for the same row (bench/bench_survey_queries.py)
ANSWER_INSERT = insert(Answer.__table__)


class Survey:
    """The listening test over one database (``sessions``: a SQLAlchemy sessionmaker).

    ``completion_url``: a template with ``{code}`` (e.g. Prolific's
    ``https://app.prolific.com/submissions/complete?cc={code}``), or None; ``contact``: who
    participants contact (shown with the consent); ``headphones``: whether the page asks for the
    headphone check."""

    def __init__(self, sessions, design: Design = Design(), completion_url: str | None = None,
                 contact: str | None = None, headphones: bool = False):
        self.sessions, self.design, self.completion_url, self.contact = sessions, design, completion_url, contact
        self.headphones = headphones
        # starts of this process queue here, not on the database's lock (whose wait is kept short)
        self._starting = threading.Lock()
        self.gate = WriteGate(sessions.kw.get("bind"))  # SQLite: this process's writers queue in turn
        self._clips = None  # (ids by (role, system), seconds by id), read at the first start

    # attempts ----------------------------------------------------------------------------------------
    def begin(self, secret: str | None, ids: Ids = Ids(), consent: bool = False,
              device: str | None = None) -> tuple[dict, str | None]:
        """Where a visitor of the survey link stands: returns (state, new secret or None).

        * the browser's attempt (``secret``), when the link names no other PID: its state;
        * a PID that another browser's attempt holds: :class:`SurveyError` 409 ``elsewhere``;
        * otherwise, without ``consent``: ``{"step": "consent"}`` (nothing is stored), or
          ``{"step": "closed"}`` while no clip pool is prepared;
        * with ``consent``: a new attempt, its state, and its secret for the browser to keep."""
        with self.sessions() as s:
            mine = self._load(s, secret) if valid_secret(secret) else None
            if mine and (ids.participant is None or mine.external_id == ids.participant):
                return self._state(mine), None
            if ids.participant is not None:
                taken = s.scalar(select(Participant.id).where(Participant.external_id == ids.participant))
                if taken is not None:
                    raise SurveyError(409, "This participant id has already started the survey in another browser. "
                                           "Continue there, or enter the resume code you were shown.", "elsewhere")
        if not consent:
            with self.sessions() as s:
                if not self._pool(s):
                    return {"step": "closed", "message": "The listening test is not open yet: its clips are not "
                                                         "prepared. (Researchers: run `python -m listening_test "
                                                         "prepare`, or `make survey`.)"}, None
            return {"step": "consent", "minutes": self.minutes(),
                    "contact": self.contact or "the researcher named in your study's description"}, None
        return self.create(ids, device)

    def create(self, ids: Ids = Ids(), device: str | None = None) -> tuple[dict, str]:
        """A new attempt (after consent), without :meth:`begin`'s checks: (state, its secret). A PID
        that another attempt holds is still refused (409 ``elsewhere``, by the unique key)."""
        if not self._starting.acquire(timeout=START_WAIT_S):
            raise SurveyError(503, "Many people are starting right now; trying again…", "busy")
        try:
            return self._create_locked(ids, device if device in DEVICES else None)
        finally:
            self._starting.release()

    def _create_locked(self, ids: Ids, device: str | None) -> tuple[dict, str]:
        for _ in range(3):
            new_secret = secrets.token_urlsafe(SECRET_BYTES)
            with self.gate(), self.sessions() as s:
                # the lock first: starts run one after another, so the usage counts are exact
                s.execute(update(Counter).where(Counter.name == "assign").values(value=Counter.value + 1))
                p = Participant(secret_hash=secret_hash(new_secret), external_id=ids.participant, study_id=ids.study,
                                session_id=ids.session, device=device, resume_code=_code(RESUME_ALPHABET, RESUME_LENGTH),
                                seed=secrets.randbelow(2**31), completion_code=_code(), answered=0)
                s.add(p)
                try:
                    s.flush()
                    items = self._assign(s, p)
                    s.commit()
                except IntegrityError:  # the same PID started twice at once, or a code collided
                    s.rollback()
                    if ids.participant is not None and s.scalar(
                            select(Participant.id).where(Participant.external_id == ids.participant)) is not None:
                        raise SurveyError(409, "This participant id has already started the survey in another "
                                               "browser. Continue there, or enter the resume code you were shown.",
                                          "elsewhere") from None
                    continue
            seconds = self._clips[1]
            clips = tuple(Clip(0, k, phase, sid, seconds[sid], None) for k, (phase, sid) in enumerate(items))
            attempt = Attempt(p.id, 0, p.resume_code, p.completion_code, p.external_id, clips)
            return self._state(attempt), new_secret
        raise SurveyError(503, "could not start the survey; please try again")

    def resume(self, code: str, ids: Ids = Ids()) -> tuple[dict, str]:
        """Move an attempt to this browser by its resume code: (state, the new secret). The old
        browser's secret stops working."""
        code = normalise_resume_code(code)
        new_secret = secrets.token_urlsafe(SECRET_BYTES)
        with self.gate(), self.sessions() as s:
            p = s.scalar(select(Participant).where(Participant.resume_code == code))
            if p is None:
                raise SurveyError(404, "no attempt has this resume code: check it, or start from your study link",
                                  "bad_code")
            if ids.participant is not None and p.external_id not in (None, ids.participant):
                raise SurveyError(409, "this resume code belongs to another participant id", "bad_code")
            p.secret_hash = secret_hash(new_secret)
            s.commit()
            return self._state(self._load(s, new_secret)), new_secret

    def _attempt(self, s, secret) -> Attempt:
        attempt = self._load(s, secret) if valid_secret(secret) else None
        if attempt is None:
            raise SurveyError(401, "No survey is open in this browser: open your study link again "
                                   "(or enter your resume code).", "no_attempt")
        return attempt

    def _load(self, s, secret: str) -> Attempt | None:
        rows = s.execute(ATTEMPT_QUERY, {"secret_hash": secret_hash(secret)}).all()
        if not rows:
            return None
        r = rows[0]
        return Attempt(r[0], r[1], r[2], r[3], r[4],
                       tuple(Clip(x[7], x[8], x[9], x[10], x[12], x[11]) for x in rows), r[5], r[6])

    def _pool(self, s) -> dict[tuple[str, str], list[int]]:
        """Stimulus ids by (role, system), read once: a pool cannot change once someone has started
        (``prepare --replace`` refuses then), and an empty pool is not kept."""
        if self._clips is None:
            pool: dict[tuple[str, str], list[int]] = {}
            seconds = {}
            for sid, role, system, length in s.execute(select(Stimulus.id, Stimulus.role, Stimulus.system,
                                                              Stimulus.seconds)):
                pool.setdefault((role, system), []).append(sid)
                seconds[sid] = length
            if not pool:
                return pool
            self._clips = (pool, seconds)
        return self._clips[0]

    def _assign(self, s, p: Participant) -> list[tuple[str, int]]:
        """Choose and store the participant's clips (module docstring); returns (phase, stimulus
        id) by position."""
        rng = random.Random(p.seed)
        counting = select(Participant.id).where(or_(Participant.answered > 0,
                                                    Participant.created_at > now() - ABANDON_AFTER))
        used = dict(s.execute(select(Assignment.stimulus_id, func.count())
                              .where(Assignment.participant_id.in_(counting))
                              .group_by(Assignment.stimulus_id)).all())
        pool = self._pool(s)

        def pick(role: str, system: str | None, k: int) -> list[int]:
            ids = [i for (r, sy), xs in sorted(pool.items()) if r == role and system in (None, sy) for i in xs]
            if len(ids) < k:
                raise SurveyError(503, "The listening test is not open yet: its clips are not prepared "
                                       "(researchers: run `python -m listening_test prepare`).", "no_pool")
            ids.sort()
            rng.shuffle(ids)
            ids.sort(key=lambda i: used.get(i, 0))  # least-heard first; ties in random order
            return ids[:k]

        # qualification: both genres, as evenly as k allows, so the step tests telling jazz from folk
        # and a clip of each genre is left for the examples; the odd clip goes to the genre whose
        # clips have been heard least on average (ties drawn), which keeps the whole qualification
        # pool within one use of balance, as the main clips are
        k = self.design.qualification
        genres = ("real jazz", "real folk")
        ids = {g: pool.get(("qualification", g), []) for g in genres}
        heard = {g: sum(used.get(i, 0) for i in ids[g]) / max(len(ids[g]), 1) for g in genres}
        first, second = sorted(genres, key=lambda g: (heard[g], rng.random()))
        quali = pick("qualification", first, k - k // 2) + pick("qualification", second, k // 2)
        rng.shuffle(quali)
        groups = pool_groups(pool)
        if not groups:
            pick("main", None, 1)  # no main clips at all: the "not prepared" refusal
        main = [pick("main", g, 1)[0] for g in groups]
        rng.shuffle(main)
        catch = pick("catch", None, self.design.catch)
        for j, c in enumerate(catch):  # spread evenly: after 1/(c+1), 2/(c+1), ... of the main clips
            main.insert(round((j + 1) * len(main) / (len(catch) + 1)) + j, c)
        items = [("qualification", i) for i in quali] + [("main", i) for i in main]
        s.add_all([Assignment(participant_id=p.id, position=k, stimulus_id=sid, phase=phase)
                   for k, (phase, sid) in enumerate(items)])
        return items

    # where a participant is -------------------------------------------------------------------------
    def minutes(self) -> int:
        """About how long the survey takes, from the pool: every clip once, plus 8 s per question."""
        with self.sessions() as s:
            seconds = s.scalar(select(func.max(Stimulus.seconds))) or 0.0
            groups = len(pool_groups(self._pool(s))) or len(MAIN_GROUPS)
        clips = self.design.qualification + groups + self.design.catch
        questions = self.design.qualification + 2 * (groups + self.design.catch)
        return max(1, round((clips * seconds + 8 * questions) / 60))

    def _state(self, a: Attempt) -> dict:
        steps = a.steps
        out = {"answered": a.answered, "questions": len(steps), "clips": len(a.clips), "resume_code": _grouped(a.resume_code),
               "sound_check": a.sound_check, "headphones_required": self.headphones,
               "headphone_check": a.headphone_check}
        if a.answered >= len(steps):
            out.update(step="done", completion_code=a.completion_code)
            if self.completion_url:
                from urllib.parse import quote
                out["completion_url"] = self.completion_url.replace("{code}", quote(a.completion_code))
            return out
        clip, q = steps[a.answered]
        in_phase = [c for c in a.clips if c.phase == clip.phase]
        out.update(step=clip.phase, position=clip.position, question=q, choices=list(QUESTIONS[q]),
                   seconds=clip.seconds, audio=f"/survey/api/audio/{clip.position}",
                   first_question=q == PHASE_QUESTIONS[clip.phase][0],
                   clip_in_phase=in_phase.index(clip) + 1, clips_in_phase=len(in_phase))
        return out

    def state(self, secret: str) -> dict:
        with self.sessions() as s:
            return self._state(self._attempt(s, secret))

    def audio(self, secret: str, position: int) -> int:
        """The stimulus id of one of the participant's clips (the current one or an earlier one);
        the first time a clip is served is recorded."""
        with self.sessions() as s:
            a = self._attempt(s, secret)
            clip = next((c for c in a.clips if c.position == position), None)
            if clip is None:
                raise SurveyError(404, "this clip is not assigned to you")
            steps = a.steps
            if a.answered < len(steps) and clip.position > steps[a.answered][0].position:
                raise SurveyError(409, "answer the current clip first")
            if clip.served_at is None:
                with self.gate():
                    self._mark_served(s, clip)
            return clip.stimulus_id

    @staticmethod
    def _mark_served(s, clip: Clip) -> None:
        """When the clip was first served (kept if a parallel request set it first)."""
        s.execute(update(Assignment).where(Assignment.id == clip.id, Assignment.served_at.is_(None))
                  .values(served_at=now()))
        s.commit()

    # before the first clip: a sound check and one example of each genre ----------------------------
    def sound_check_count(self, secret: str) -> int:
        """How many tones this attempt's sound check plays (3 to 6, from its seed)."""
        with self.sessions() as s:
            a = self._attempt(s, secret)
            return 3 + s.scalar(select(Participant.seed).where(Participant.id == a.id)) % 4

    def check_sound(self, secret: str, heard: int) -> bool:
        """Record a try of the sound check (the participant counted ``heard`` tones): passed or
        failed, and how many tries. It is recorded, not required: researchers may exclude on it."""
        passed = heard == self.sound_check_count(secret)
        with self.gate(), self.sessions() as s:
            a = self._attempt(s, secret)
            s.execute(update(Participant).where(Participant.id == a.id)
                      .values(sound_check="passed" if passed else "failed", sound_tries=Participant.sound_tries + 1))
            s.commit()
        return passed

    def headphone_trials(self, secret: str) -> list[tuple[str, str, str]]:
        """The attempt's headphone check: :data:`HEADPHONE_TRIALS` orders of the three tones
        ``normal``, ``quiet`` (-6 dB) and ``antiphase`` (left and right in opposite phase), from its
        seed. Over headphones the quiet tone is the quietest; over loudspeakers the antiphase one
        cancels and sounds quieter (Woods, Siegel, Traer and McDermott 2017)."""
        with self.sessions() as s:
            a = self._attempt(s, secret)
            rng = random.Random(s.scalar(select(Participant.seed).where(Participant.id == a.id)) * 31 + 7)
        trials = []
        for _ in range(HEADPHONE_TRIALS):
            order = ["normal", "quiet", "antiphase"]
            rng.shuffle(order)
            trials.append(tuple(order))
        return trials

    def check_headphones(self, secret: str, answers: list[int]) -> bool:
        """Record a try of the headphone check: ``answers[i]`` is the tone (1, 2 or 3) heard as the
        quietest in trial i; passed with :data:`HEADPHONE_PASS` or more right."""
        trials = self.headphone_trials(secret)
        if len(answers) != len(trials):
            raise SurveyError(400, f"answer all {len(trials)} trials of the headphone check")
        right = sum(t.index("quiet") + 1 == a for t, a in zip(trials, answers))
        passed = right >= HEADPHONE_PASS
        with self.gate(), self.sessions() as s:
            a = self._attempt(s, secret)
            s.execute(update(Participant).where(Participant.id == a.id).values(
                headphone_check=f"{'passed' if passed else 'failed'} {right}/{len(trials)}"))
            s.commit()
        return passed

    def example(self, secret: str, genre: str) -> int:
        """A stimulus id to play as a labelled example of ``genre``: a qualification clip of that
        genre that this attempt will not be asked about."""
        with self.sessions() as s:
            a = self._attempt(s, secret)
            mine = {c.stimulus_id for c in a.clips}
            sid = s.scalar(select(Stimulus.id).where(Stimulus.role == "qualification", Stimulus.genre == genre,
                                                     Stimulus.id.not_in(mine)).order_by(Stimulus.id))
            if sid is None:
                raise SurveyError(404, f"no {genre} example in this pool")
            return sid

    def stimulus_audio(self, stimulus_id: int) -> bytes:
        with self.sessions() as s:
            return s.scalar(select(Stimulus.audio).where(Stimulus.id == stimulus_id))

    # answers ----------------------------------------------------------------------------------------
    def answer(self, secret: str, position: int, question: str, choice: str) -> dict:
        """Record one answer (module docstring for the rules); returns the new state, with
        ``repeated`` true when the request was a retry of an answer already saved."""
        if question not in QUESTIONS:
            raise SurveyError(400, f"unknown question {question!r}")
        if choice not in QUESTIONS[question]:
            raise SurveyError(400, f"{choice!r} is not an answer to this question; choose one of "
                                   f"{', '.join(QUESTIONS[question])}")
        if not isinstance(position, int) or isinstance(position, bool):
            raise SurveyError(400, "position must be a whole number")
        with self.sessions() as s:
            a = self._attempt(s, secret)
            steps = a.steps
            index = next((k for k, (c, q) in enumerate(steps) if c.position == position and q == question), None)
            if index is None:
                raise SurveyError(409, "this clip or question is not assigned to you")
            if index < a.answered:
                return self._repeat(s, a, position, question, choice)
            if index > a.answered:
                c, q = steps[a.answered]
                raise SurveyError(409, f"answer in order: the current clip is number {c.position + 1}, question {q!r}",
                                  "order")
            clip = steps[index][0]
            if question == PHASE_QUESTIONS[clip.phase][0]:
                if clip.served_at is None:
                    raise SurveyError(425, "please play the clip before answering")
                left = clip.seconds - (now() - _aware(clip.served_at)).total_seconds()
                if left > TOLERANCE_S:
                    raise SurveyError(425, f"please listen to the whole clip ({left:.1f} s left)")
            last = index == len(steps) - 1
            try:
                with self.gate():
                    self._save(s, a, index, position, question, choice, last)
            except IntegrityError:  # the same answer raced in from a retry: the first one counts
                s.rollback()
                return self._repeat(s, self._attempt(s, secret), position, question, choice)
            done = Attempt(a.id, index + 1, a.resume_code, a.completion_code, a.external_id, a.clips, a.sound_check, a.headphone_check)
            return {**self._state(done), "repeated": False}

    @staticmethod
    def _save(s, a: Attempt, index: int, position: int, question: str, choice: str, last: bool) -> None:
        """The answer and the moved step, in one transaction (raises IntegrityError on a race)."""
        try:
            s.execute(ANSWER_INSERT,
                      {"participant_id": a.id, "position": position, "question": question, "choice": choice})
            moved = s.execute(update(Participant).where(Participant.id == a.id, Participant.answered == index)
                              .values(answered=index + 1, **({"finished_at": now()} if last else {}))).rowcount
            if moved != 1:
                raise IntegrityError("answered moved", None, Exception())
            s.commit()
        except Exception:
            s.rollback()
            raise

    def _repeat(self, s, a: Attempt, position: int, question: str, choice: str) -> dict:
        saved = s.scalar(select(Answer.choice).where(Answer.participant_id == a.id, Answer.position == position,
                                                     Answer.question == question))
        if saved != choice:
            raise SurveyError(409, "this question was already answered; answers cannot be changed", "answered")
        return {**self._state(a), "repeated": True}


def _grouped(code: str) -> str:
    return code[:5] + "-" + code[5:]


def _code(alphabet: str = string.ascii_uppercase + string.digits, length: int = 10) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))
