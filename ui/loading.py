"""What the app is still reading on its first run, said plainly, and what waits for it.

The page is up in seconds, but the real data (the Weimar Jazz Database and the Essen folk songs)
and the automatic judge load in the background: on a machine's first run Essen is parsed (minutes
on two cores) and the judge trained; later runs read both from the cache in seconds. Until then
there are no real excerpts (the *Real jazz* and *Real folk* systems, continuing a real excerpt), no
real jazz and folk lines in the histograms and no judge's verdict. :func:`banner` says which step
is under way and for how long; the page refreshes it every few seconds until :func:`settled`.
"""
from __future__ import annotations

from fusion.demo import Status

STEPS = {"jazz": "the Weimar Jazz Database (real jazz solos)",
         "folk": "the Essen collection (real folk songs; on a first run this is parsed, the longest step)",
         "judge": "the automatic judge (trained once per machine, then cached)"}
WAITING = ("Until then, real excerpts (the systems *Real jazz* and *Real folk*, and continuing a real "
           "excerpt) are not available, the histograms have no real jazz and folk lines, and melodies "
           "get no judge's verdict. Everything else works now.")
JUDGE_WAITING = ("Real excerpts and the histograms' real jazz and folk lines are ready; melodies made before "
                 "the judge is ready get no judge's verdict.")


def settled(st: Status) -> bool:
    """Whether loading is over (finished, or failed with an error the page shows)."""
    return st.data_ready and st.judge != "training"


def real_ready(st: Status) -> bool:
    """Whether real excerpts can be played and continued."""
    return st.data_ready and bool(st.corpora)


def _seconds(s: float) -> str:
    s = int(s)
    return f"{s // 60} min {s % 60:02d} s" if s >= 60 else f"{s} s"


def banner(st: Status) -> str:
    """Markdown: which step is under way, which are done, and what waits; empty when all is ready."""
    if st.error:
        return (f"**The real data could not be loaded:** {st.error}. The generators work; real "
                "excerpts, the real jazz and folk lines of the histograms and the judge's verdict are "
                "not available (the Data tab says where the data is looked for).")
    if settled(st):
        return ""
    order = list(STEPS)
    current = st.loading
    lines = [f"**Loading in the background** ({len(st.systems)} generators are ready now)."]
    for step in order:
        if current is None and not st.data_ready:
            state = "waiting to start"
        elif step == current:
            doing = "training now" if step == "judge" else "reading now"
            state = f"**{doing}** ({_seconds(st.loading_seconds)} so far)"
        elif current is None or order.index(step) < order.index(current):
            state = "ready"
        else:
            state = "waiting"
        lines.append(f"- {STEPS[step]}: {state}")
    return "\n".join(lines) + "\n\n" + (JUDGE_WAITING if real_ready(st) else WAITING)
