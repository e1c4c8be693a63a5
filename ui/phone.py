"""The browser-side pieces of the page: after a new melody, its address in the URL bar and the
player scrolled into view (on a phone the results sit below the controls); the "Copy link" button;
a tab bar whose four tabs fit on a phone's width (no tab hidden behind a "more" menu).

Each ``*_JS`` is the source of one JavaScript function that Gradio runs in the page (``js=``).
"""
from __future__ import annotations

#: the melody's link in the URL bar (none after a continuation or a batch: they have no link), the
#: link box showing the full address, and the player scrolled into view when it is not on screen
#: (a phone); input and output: the link box
SHOW_MELODY_JS = """
(link) => {
  const query = link && link.startsWith("?") ? link : "";
  history.replaceState(history.state, "", location.pathname + query);
  const full = query ? location.href : "";
  const player = document.getElementById("audio");
  if (player) {
    const box = player.getBoundingClientRect();
    if (box.top < 0 || box.top > window.innerHeight - 120) {
      player.scrollIntoView({block: "start"});
    }
  }
  return full;
}
"""

#: "Copy link": the link onto the clipboard; where the browser refuses, the note says to copy it
#: from the box; input: the link box, output: the note beside the button
COPY_LINK_JS = """
async (link) => {
  if (!link) {
    return "Generate a melody first: the link holds its settings and its seed.";
  }
  try {
    await navigator.clipboard.writeText(link);
    return "Link copied: it opens this page with these settings and this seed.";
  } catch (e) {
    return "This browser did not let the page copy: select the link in the box and copy it.";
  }
}
"""

#: the tab bar on a narrow screen: smaller tabs, so that Demo, Evaluation, Listening test and Data
#: all fit in a row (Gradio otherwise moves the last ones into a "..." menu)
CSS = """
@media (max-width: 640px) {
  .tab-container button { padding: 0 7px !important; font-size: 14px !important; }
  .tab-container { gap: 0 !important; }
}
"""
