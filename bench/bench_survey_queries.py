"""What one answer's database work costs in CPU, the way the survey does it now against the naive
way, in process, on a SQLite file with the survey's own tables (``docs/performance.md``, "The
listening test").

Two pieces run once or twice for every answer (:mod:`listening_test.flow`):

* reading the participant's attempt and its clips: the statement built once with a bound
  parameter (``flow.ATTEMPT_QUERY``) against the same statement built anew for every request, as
  before 2026-12-08;
* saving the answer with the step it moves: a plain insert into the table
  (``flow.ANSWER_INSERT``) against the ORM's ``session.add`` and ``flush``, as before, each followed by
  the same guarded update and commit.

100 participants with 20 clips each are written first (the stimuli without audio: only the query's
cost is measured). CPU time per call (``time.process_time``), the two ways alternating, the
median of ``--repeats`` rounds.

    python bench/bench_survey_queries.py [--repeats 5] [--json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select, update  # noqa: E402

from listening_test import db, flow  # noqa: E402
from listening_test.db import Answer, Assignment, Participant, Stimulus  # noqa: E402

PARTICIPANTS, CLIPS = 100, 20


def built_per_request(secret_hash: str):
    """The attempt's statement as :meth:`flow.Survey._load` built it for every request before."""
    return (select(Participant.id, Participant.answered, Participant.resume_code, Participant.completion_code,
                   Participant.external_id, Participant.sound_check, Participant.headphone_check, Assignment.id,
                   Assignment.position, Assignment.phase, Assignment.stimulus_id, Assignment.served_at,
                   Stimulus.seconds)
            .join(Assignment, Assignment.participant_id == Participant.id)
            .join(Stimulus, Stimulus.id == Assignment.stimulus_id)
            .where(Participant.secret_hash == secret_hash)
            .order_by(Assignment.position))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    sessions = db.sessions(db.make_engine(f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-queries-')) / 's.sqlite'}"))
    with sessions() as s:
        s.add_all(Stimulus(id=k + 1, role="main", system="bench", seconds=1.0, audio=b"", midi=b"") for k in range(CLIPS))
        s.add_all(Participant(id=p + 1, secret_hash=f"{p:064d}", resume_code=f"R{p}", seed=p, completion_code="C",
                              answered=0) for p in range(PARTICIPANTS))
        s.commit()
        s.add_all(Assignment(participant_id=p + 1, position=k, stimulus_id=k + 1, phase="main")
                  for p in range(PARTICIPANTS) for k in range(CLIPS))
        s.commit()

    def read_now(s, p, _k):
        return s.execute(flow.ATTEMPT_QUERY, {"secret_hash": f"{p:064d}"}).all()

    def read_naive(s, p, _k):
        return s.execute(built_per_request(f"{p:064d}")).all()

    def save(add):
        def run(s, p, k):
            add(s, p, k)
            s.execute(update(Participant).where(Participant.id == p + 1, Participant.answered == k)
                      .values(answered=k + 1))
            s.commit()
        return run

    save_now = save(lambda s, p, k: s.execute(flow.ANSWER_INSERT, {"participant_id": p + 1, "position": k,
                                                                  "question": "fusion", "choice": "mixture"}))

    def orm_add(s, p, k):
        s.add(Answer(participant_id=p + 1, position=k, question="fusion", choice="mixture"))
        s.flush()
    save_naive = save(orm_add)

    step = 0  # the answered step every participant is at

    def per_call(fn, moves: bool) -> float:
        nonlocal step
        calls = 0
        t = time.process_time()
        for p in range(PARTICIPANTS):
            with sessions() as s:
                fn(s, p, step)
            calls += 1
        if moves:
            step += 1
        return 1000 * (time.process_time() - t) / calls

    rounds = {"read_now": [], "read_naive": [], "save_now": [], "save_naive": []}
    for _ in range(args.repeats):
        rounds["read_naive"].append(per_call(read_naive, False))
        rounds["read_now"].append(per_call(read_now, False))
        rounds["save_naive"].append(per_call(save_naive, True))
        rounds["save_now"].append(per_call(save_now, True))
    ms = {k: round(statistics.median(v), 3) for k, v in rounds.items()}
    if args.json:
        print(json.dumps(ms, indent=1))
        return
    print("| per call, CPU | now | the naive way | ratio |\n|---|---:|---:|---:|")
    for what, now, naive in (("read the attempt (13 columns, 20 clips)", "read_now", "read_naive"),
                             ("save an answer and move the step", "save_now", "save_naive")):
        print(f"| {what} | {ms[now]:.3f} ms | {ms[naive]:.3f} ms | {ms[naive] / ms[now]:.2f}x |")


if __name__ == "__main__":
    main()
