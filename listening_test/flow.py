"""A participant's path through the listening test, and every rule an answer must pass.

Steps (the paper's three, plus consent and a completion code):

1. ``start``: a participant is created with a secret token (or found again by the crowd platform's
   id, e.g. ``PROLIFIC_PID``, or by their token), and their clips are assigned at once;
2. qualification: ``qualification`` real clips, question ``genre``: jazz / folk / neither;
3. for each main clip: ``fusion`` (pure jazz / pure folk / mixture / neither), then
   ``musicality`` (expert / newbie / robot) for the same clip;
4. a completion code.

**Balance.** Every participant hears exactly one clip of each system and of each control
(:data:`MAIN_GROUPS`), so every system receives the same number of answers however many
participants finish, and whichever app process served them. Within a system, the clip assigned
least often so far is chosen (ties at random). The order of the main clips is shuffled from the
participant's seed; the catch trials are spread evenly through them.

**Rules for an answer** (checked on the server, in one transaction):
the token must be known; the choice must be one of the question's; the (position, question) must
be the participant's current one (clips are answered in order, each question once); a retried
request with the same answer is acknowledged again and changes nothing, a different answer to an
answered question is refused; the first question of a clip is refused until the clip's length has
passed since its audio was first served.
"""
from __future__ import annotations

import random
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from listening_test.db import Answer, Assignment, Participant, Stimulus, now
from listening_test.stimuli import CONTROLS, SYSTEMS

QUESTIONS = {"genre": ("jazz", "folk", "neither"),
             "fusion": ("jazz", "folk", "mixture", "neither"),
             "musicality": ("expert", "newbie", "robot")}
PHASE_QUESTIONS = {"qualification": ("genre",), "main": ("fusion", "musicality")}
MAIN_GROUPS = SYSTEMS + CONTROLS
TOLERANCE_S = 0.25  # clock and network slack on the "listened to the whole clip" rule


class SurveyError(Exception):
    """A refused request: ``status`` (HTTP code) and a message for the participant."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class Design:
    qualification: int = 3
    catch: int = 2


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)  # SQLite returns naive datetimes


class Survey:
    """The listening test over one database (``sessions``: a SQLAlchemy sessionmaker)."""

    def __init__(self, sessions, design: Design = Design()):
        self.sessions, self.design = sessions, design

    # participants -------------------------------------------------------------------------------
    def start(self, external_id: str | None = None, token: str | None = None, create: bool = True) -> dict:
        """Resume the participant with ``token`` or ``external_id``, or (``create``) a new one."""
        if token:
            with self.sessions() as s:
                return self._state(s, self._participant(s, token))
        if external_id is not None:
            external_id = str(external_id).strip()
            if not external_id or len(external_id) > 128 or not external_id.isprintable():
                raise SurveyError(400, "the participant id must be 1 to 128 printable characters")
        for _ in range(3):
            with self.sessions() as s:
                if external_id:
                    found = s.scalar(select(Participant).where(Participant.external_id == external_id))
                    if found:
                        return self._state(s, found)
                if not create:
                    raise SurveyError(404, "no participant with this id yet")
                p = Participant(token=secrets.token_urlsafe(18), external_id=external_id,
                                seed=secrets.randbelow(2**31), completion_code=_code())
                s.add(p)
                try:
                    s.flush()
                    self._assign(s, p)
                    s.commit()
                except IntegrityError:  # the same platform id started twice at once: use the first
                    s.rollback()
                    continue
                return self._state(s, p)
        raise SurveyError(503, "could not start the survey; please try again")

    def _participant(self, s, token: str) -> Participant:
        p = s.scalar(select(Participant).where(Participant.token == str(token)))
        if p is None:
            raise SurveyError(404, "unknown participant token: start the survey from its link")
        return p

    def _assign(self, s, p: Participant) -> None:
        rng = random.Random(p.seed)
        used = dict(s.execute(select(Assignment.stimulus_id, func.count()).group_by(Assignment.stimulus_id)).all())

        def pick(role: str, system: str | None, k: int) -> list[int]:
            q = select(Stimulus.id).where(Stimulus.role == role)
            if system:
                q = q.where(Stimulus.system == system)
            ids = list(s.scalars(q))
            if len(ids) < k:
                raise SurveyError(503, "the stimulus pool is not prepared: run `python -m listening_test prepare`")
            rng.shuffle(ids)
            ids.sort(key=lambda i: used.get(i, 0))  # least-heard first; ties in random order
            return ids[:k]

        quali = pick("qualification", None, self.design.qualification)
        main = [pick("main", g, 1)[0] for g in MAIN_GROUPS]
        rng.shuffle(main)
        catch = pick("catch", None, self.design.catch)
        for j, c in enumerate(catch):  # spread evenly: after 1/(c+1), 2/(c+1), ... of the main clips
            main.insert(round((j + 1) * len(main) / (len(catch) + 1)) + j, c)
        items = [("qualification", i) for i in quali] + [("main", i) for i in main]
        for position, (phase, sid) in enumerate(items):
            s.add(Assignment(participant_id=p.id, position=position, stimulus_id=sid, phase=phase))

    # where a participant is -----------------------------------------------------------------------
    def _steps(self, s, p: Participant):
        """All (assignment, question) pairs in order, and the answered ones."""
        assignments = list(s.scalars(select(Assignment).where(Assignment.participant_id == p.id)
                                     .order_by(Assignment.position)))
        steps = [(a, q) for a in assignments for q in PHASE_QUESTIONS[a.phase]]
        answered = {(a.position, a.question): a.choice
                    for a in s.scalars(select(Answer).where(Answer.participant_id == p.id))}
        return steps, answered

    def _state(self, s, p: Participant) -> dict:
        steps, answered = self._steps(s, p)
        done = sum(1 for a, q in steps if (a.position, q) in answered)
        out = {"token": p.token, "answered": done, "questions": len(steps), "clips": len({a.position for a, _ in steps})}
        current = next(((a, q) for a, q in steps if (a.position, q) not in answered), None)
        if current is None:
            out.update(step="done", completion_code=p.completion_code)
            return out
        a, q = current
        stim = s.get(Stimulus, a.stimulus_id)
        out.update(step=a.phase, position=a.position, question=q, choices=list(QUESTIONS[q]),
                   seconds=stim.seconds, audio=f"/survey/api/audio/{a.position}",
                   first_question=q == PHASE_QUESTIONS[a.phase][0])
        return out

    def state(self, token: str) -> dict:
        with self.sessions() as s:
            return self._state(s, self._participant(s, token))

    def audio(self, token: str, position: int) -> bytes:
        """The WAV of one of the participant's clips (the current one or an earlier one); the first
        time a clip is served is recorded."""
        with self.sessions() as s:
            p = self._participant(s, token)
            a = s.scalar(select(Assignment).where(Assignment.participant_id == p.id,
                                                  Assignment.position == int(position)))
            if a is None:
                raise SurveyError(404, "this clip is not assigned to you")
            state = self._state(s, p)
            if state["step"] != "done" and a.position > state["position"]:
                raise SurveyError(409, "answer the current clip first")
            if a.served_at is None:
                a.served_at = now()
                s.commit()
            return s.get(Stimulus, a.stimulus_id).audio

    # answers ------------------------------------------------------------------------------------------
    def answer(self, token: str, position, question: str, choice: str) -> dict:
        """Record one answer (module docstring for the rules); returns the new state, with
        ``repeated`` true when the request was a retry of an answer already saved."""
        if question not in QUESTIONS:
            raise SurveyError(400, f"unknown question {question!r}")
        if choice not in QUESTIONS[question]:
            raise SurveyError(400, f"{choice!r} is not an answer to this question; choose one of "
                                   f"{', '.join(QUESTIONS[question])}")
        try:
            position = int(position)
        except (TypeError, ValueError):
            raise SurveyError(400, "position must be a whole number") from None
        with self.sessions() as s:
            p = self._participant(s, token)
            steps, answered = self._steps(s, p)
            if (position, question) in answered:
                if answered[position, question] == choice:
                    return {**self._state(s, p), "repeated": True}
                raise SurveyError(409, "this question was already answered; answers cannot be changed")
            current = next(((a, q) for a, q in steps if (a.position, q) not in answered), None)
            if current is None:
                raise SurveyError(409, "the survey is complete")
            a, q = current
            if not any(x.position == position and y == question for x, y in steps):
                raise SurveyError(409, "this clip or question is not assigned to you")
            if (a.position, q) != (position, question):
                raise SurveyError(409, f"answer in order: the current clip is number {a.position + 1}, question {q!r}")
            if q == PHASE_QUESTIONS[a.phase][0]:
                seconds = s.get(Stimulus, a.stimulus_id).seconds
                if a.served_at is None:
                    raise SurveyError(425, "please play the clip before answering")
                left = seconds - (now() - _aware(a.served_at)).total_seconds()
                if left > TOLERANCE_S:
                    raise SurveyError(425, f"please listen to the whole clip ({left:.1f} s left)")
            s.add(Answer(participant_id=p.id, position=position, question=question, choice=choice))
            if steps[-1][0].position == position and steps[-1][1] == question:
                p.finished_at = now()
            try:
                s.commit()
            except IntegrityError:  # the same answer raced in from a retry: the first one counts
                s.rollback()
                saved = s.scalar(select(Answer.choice).where(Answer.participant_id == p.id, Answer.position == position,
                                                             Answer.question == question))
                if saved != choice:
                    raise SurveyError(409, "this question was already answered; answers cannot be changed") from None
                return {**self._state(s, p), "repeated": True}
            return {**self._state(s, p), "repeated": False}


def _code() -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(10))
