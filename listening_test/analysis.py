"""What the answers say: the paper's Table II per system, with intervals, filters and agreement.

* **Table II** per system and control: the shares of pure jazz / pure folk / mixture / neither
  answers and of expert / newbie / robot answers (percent); the Fusion Level (paper's formula,
  :func:`fusion.evaluation.paper.fusion_level`) with a 95% bootstrap interval that resamples *participants*
  (their answers are not independent), percentile method, 2,000 resamples; answers and
  participants counted.
* **Qualification accuracy**: the share of qualification answers naming the clip's true genre.
* **Filters**: only participants who finished count, unless asked; ``qualified`` keeps
  participants with at least ``QUALIFIED`` of their qualification answers right; ``attentive``
  drops participants who called a catch trial anything but "neither".
* **Participants** (:func:`participants_frame`): one row per attempt with its ids, device, start
  and end in UTC, duration, scores, completion code and why it is excluded, if it is.
* **Agreement**: Fleiss' kappa of the fusion answers over clips heard by at least two listeners,
  in the form for a varying number of raters per item:
  ``P_i = (sum_j n_ij^2 - n_i) / (n_i (n_i - 1))``, ``P = mean P_i``,
  ``p_j = sum_i n_ij / sum_i n_i``, ``P_e = sum_j p_j^2``, ``kappa = (P - P_e) / (1 - P_e)``
  (Fleiss 1971, eq. 1-9; reduces to it when every clip has the same number of raters).
* **Exports**: the raw answers and the table as CSV (:func:`safe_csv`), following OWASP's "CSV
  injection" guidance: every field quoted; every text cell that a spreadsheet would read as a formula
  prefixed with ``'``. A cell is neutralised when it, or any part of it after a comma, a semicolon,
  a tab, a carriage return, a line feed or a pipe, starts (after spaces and quotes) with
  ``= + - @`` or their full-width forms ``＝ ＋ － ＠``, a tab or a carriage return, so that it is
  inert in comma and semicolon locales alike, even when a spreadsheet splits a quoted field.
"""
from __future__ import annotations

import csv
import io
import json
import re

import numpy as np
import pandas as pd
from sqlalchemy import select

from fusion.evaluation import paper
from listening_test.db import Answer, Assignment, Participant, Stimulus
from listening_test.flow import MAIN_GROUPS, QUESTIONS

QUALIFIED = 2 / 3
RESAMPLES = 2000


def _utc(values) -> pd.Series:
    """Datetimes as timezone-aware UTC (SQLite returns them naive, in UTC)."""
    t = pd.to_datetime(pd.Series(values), utc=False)
    return t.dt.tz_localize("UTC") if t.dt.tz is None else t.dt.tz_convert("UTC")


def answers_frame(sessions) -> pd.DataFrame:
    """Every answer with its clip's role, system and true genre, one row each; ``served_at`` (the
    clip's first serving) and ``answered_at`` in UTC; ``finished`` whether its participant
    finished the survey."""
    with sessions() as s:
        rows = s.execute(
            select(Participant.id, Participant.external_id, Participant.study_id, Participant.session_id,
                   Answer.position, Answer.question, Answer.choice, Answer.answered_at, Stimulus.id, Stimulus.role,
                   Stimulus.system, Stimulus.genre, Assignment.served_at, Participant.finished_at.is_not(None))
            .join(Answer, Answer.participant_id == Participant.id)
            .join(Assignment, (Assignment.participant_id == Answer.participant_id)
                  & (Assignment.position == Answer.position))
            .join(Stimulus, Stimulus.id == Assignment.stimulus_id)
            .order_by(Participant.id, Answer.position, Answer.answered_at)).all()
    df = pd.DataFrame(rows, columns=["participant", "external_id", "study_id", "session_id", "position", "question",
                                     "choice", "answered_at", "stimulus", "role", "system", "genre", "served_at",
                                     "finished"])
    for c in ("answered_at", "served_at"):
        df[c] = _utc(df[c]) if len(df) else pd.Series(dtype="datetime64[ns, UTC]")
    return df


def participants_frame(sessions, answers: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per attempt: platform ids, device, the sound check (its last result and the number of
    tries), start and end (UTC), duration, answers given,
    finished, qualification accuracy, catch trials passed, completion code, and the reason it is
    left out of Table II by default (:data:`EXCLUSIONS`; empty when kept)."""
    answers = answers_frame(sessions) if answers is None else answers
    with sessions() as s:
        rows = s.execute(select(Participant.id, Participant.external_id, Participant.study_id,
                                Participant.session_id, Participant.device, Participant.sound_check,
                                Participant.sound_tries, Participant.headphone_check, Participant.created_at,
                                Participant.finished_at, Participant.answered, Participant.completion_code)
                         .order_by(Participant.id)).all()
    df = pd.DataFrame(rows, columns=["participant", "external_id", "study_id", "session_id", "device", "sound_check",
                                     "sound_tries", "headphone_check", "started_at", "finished_at", "answers", "completion_code"])
    for c in ("started_at", "finished_at"):
        df[c] = _utc(df[c]) if len(df) else pd.Series(dtype="datetime64[ns, UTC]")
    df["finished"] = df.finished_at.notna()
    df["duration_s"] = (df.finished_at - df.started_at).dt.total_seconds().round(1)
    flags = participant_flags(answers) if len(answers) else pd.DataFrame(
        columns=["qualification_accuracy", "qualified", "attentive"])
    df = df.join(flags[["qualification_accuracy", "qualified", "attentive"]], on="participant")
    df["qualified"] = df.qualified.fillna(False).astype(bool)
    df["attentive"] = df.attentive.fillna(True).astype(bool)
    df["excluded_because"] = [exclusion(r.finished, r.qualified, r.attentive) for r in df.itertuples()]
    return df


#: why a participant is left out of Table II: always when unfinished; by the page's filters otherwise
EXCLUSIONS = ("unfinished", "failed a catch trial", "below the qualification threshold")


def exclusion(finished: bool, qualified: bool, attentive: bool, use_qualified: bool = True,
              use_attentive: bool = True) -> str:
    if not finished:
        return EXCLUSIONS[0]
    if use_attentive and not attentive:
        return EXCLUSIONS[1]
    if use_qualified and not qualified:
        return EXCLUSIONS[2]
    return ""


def assignment_of(sessions, secret: str) -> list[dict]:
    """The clips of the attempt with this browser secret, in order: position, phase, role, system,
    true genre (for the simulated crowd, which knows its own secret)."""
    from listening_test.flow import secret_hash

    with sessions() as s:
        rows = s.execute(select(Assignment.position, Assignment.phase, Stimulus.role, Stimulus.system, Stimulus.genre)
                         .join(Participant, Participant.id == Assignment.participant_id)
                         .join(Stimulus, Stimulus.id == Assignment.stimulus_id)
                         .where(Participant.secret_hash == secret_hash(str(secret)))
                         .order_by(Assignment.position)).all()
    return [dict(position=p, phase=ph, role=r, system=sy, genre=g) for p, ph, r, sy, g in rows]


def participant_flags(df: pd.DataFrame) -> pd.DataFrame:
    """Per participant: qualification accuracy, qualified, attentive (catch trials), finished."""
    q = df[df.question == "genre"]
    acc = (q.choice == q.genre).groupby(q.participant).mean()
    catch = df[(df.role == "catch") & (df.question == "fusion")]
    failed = (catch.choice != "neither").groupby(catch.participant).any()
    out = pd.DataFrame({"participant": sorted(df.participant.unique())}).set_index("participant")
    out["qualification_accuracy"] = acc
    out["qualified"] = out.qualification_accuracy >= QUALIFIED - 1e-9
    out["attentive"] = ~failed.reindex(out.index, fill_value=False)
    return out


def filtered(df: pd.DataFrame, qualified: bool = False, attentive: bool = False,
             unfinished: bool = False) -> pd.DataFrame:
    """The answers Table II counts: of finished participants only (unless ``unfinished``), and of
    qualified and attentive ones when asked."""
    flags = participant_flags(df) if len(df) else pd.DataFrame(columns=["qualified", "attentive"])
    keep = pd.Series(True, index=flags.index)
    if qualified:
        keep &= flags.qualified
    if attentive:
        keep &= flags.attentive
    if not unfinished and "finished" in df and len(df):
        keep &= df.groupby("participant").finished.first().reindex(keep.index, fill_value=False).astype(bool)
    return df[df.participant.isin(keep[keep].index)]


def table_ii(df: pd.DataFrame, resamples: int = RESAMPLES, seed: int = 0) -> pd.DataFrame:
    """Table II (module docstring) from an answers frame (already filtered)."""
    rows = []
    rng = np.random.default_rng(seed)
    main = df[df.role == "main"]
    for system in MAIN_GROUPS:
        part = main[main.system == system]
        fus, mus = part[part.question == "fusion"], part[part.question == "musicality"]
        row = {"system": system, "answers": len(fus), "participants": fus.participant.nunique()}
        counts = fus.choice.value_counts()
        for lab in QUESTIONS["fusion"]:
            row[lab] = 100 * counts.get(lab, 0) / max(len(fus), 1)
        mcounts = mus.choice.value_counts()
        for lab in QUESTIONS["musicality"]:
            row[lab] = 100 * mcounts.get(lab, 0) / max(len(mus), 1)
        if len(fus):
            row["fl"] = 100 * paper.fusion_level(*(counts.get(lab, 0) for lab in paper.LABELS))
            per = np.stack([fus[fus.participant == p_].choice.value_counts().reindex(paper.LABELS, fill_value=0)
                            .to_numpy() for p_ in fus.participant.unique()])  # participants x 4
            draws = rng.integers(0, len(per), size=(resamples, len(per)))
            tot = per[draws].sum(axis=1)  # resamples x 4
            j, f, m, n = tot.T
            fl = 100 * (1 - (np.abs(j - f) + n) / np.maximum(tot.sum(axis=1), 1))
            row["fl_ci_low"], row["fl_ci_high"] = np.percentile(fl, [2.5, 97.5])
        else:
            row["fl"] = row["fl_ci_low"] = row["fl_ci_high"] = np.nan
        printed = paper.TABLE_II.get(system)
        row["paper_fl"] = printed["fl"] if printed else np.nan
        row["paper_fl_recomputed"] = (100 * paper.fusion_level(*(printed[k] for k in paper.LABELS))
                                      if printed else np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def qualification_accuracy(df: pd.DataFrame) -> float:
    q = df[df.question == "genre"]
    return float((q.choice == q.genre).mean()) if len(q) else float("nan")


def fleiss_kappa(df: pd.DataFrame, question: str = "fusion") -> float:
    """Fleiss' kappa of ``question``'s answers over clips with two or more listeners (module
    docstring); NaN when there are none."""
    part = df[(df.question == question) & (df.role == "main")]
    table = pd.crosstab(part.stimulus, part.choice).reindex(columns=list(QUESTIONS[question]), fill_value=0)
    return fleiss_kappa_of(table.to_numpy())


def fleiss_kappa_of(counts: np.ndarray) -> float:
    """Fleiss' kappa of an items x categories table of rating counts."""
    counts = np.asarray(counts, float)
    n = counts.sum(axis=1)
    counts, n = counts[n >= 2], n[n >= 2]
    if not len(counts):
        return float("nan")
    p_i = ((counts ** 2).sum(axis=1) - n) / (n * (n - 1))
    p_j = counts.sum(axis=0) / n.sum()
    p_e = (p_j ** 2).sum()
    return float((p_i.mean() - p_e) / (1 - p_e)) if p_e < 1 else float("nan")


FORMULA_START = set("=+-@\t\r＝＋－＠")
_SEGMENT = re.compile(r"(^|[,;\t\r\n|])([ \"']*)(?=[=+\-@\t\r＝＋－＠])")


def neutralise(value):
    """A cell as :func:`safe_csv` writes it: text that could start a formula, at its start or after
    a separator inside it, gets a ``'`` in front (module docstring); anything else is unchanged."""
    if not isinstance(value, str):
        return value
    return _SEGMENT.sub(lambda m: m.group(1) + m.group(2) + "'", value)


def safe_csv(df: pd.DataFrame) -> str:
    """CSV text with spreadsheet formula injection neutralised (module docstring): every field
    quoted, every cell passed through :func:`neutralise`."""
    buf = io.StringIO()
    df.map(neutralise).to_csv(buf, index=False, quoting=csv.QUOTE_ALL, na_rep="")
    return buf.getvalue()


def records(df: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts, NaN as None."""
    return json.loads(df.to_json(orient="records"))
