"""FusionGAN's browser app (Gradio) on http://127.0.0.1:7860.

Today it shows what is loaded (data folder, corpora, checkpoints) and plays real melodies of the
two training genres, key-normalised to C, from the test split; the demo of the trained systems,
the survey and the results page are built on this page in later issues.

    .venv/bin/python app.py            # or: make run
    FUSION_PORT=7861 .venv/bin/python app.py
"""
from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import random  # noqa: E402
import threading  # noqa: E402

import gradio as gr  # noqa: E402

from fusion import corpus, paths, pianoroll  # noqa: E402
from fusion.audio import AudioError, default_renderer  # noqa: E402

GENRES = ("jazz", "folk")
SETTINGS = corpus.Settings()


class Corpora:
    """The two corpora, loaded in a background thread so the page is up at once (the first
    start of a machine parses the data for a few minutes; later starts read the cache)."""

    def __init__(self):
        self.loaded: dict[str, corpus.Corpus] = {}
        self.failed: dict[str, str] = {}
        self.ready = {g: threading.Event() for g in GENRES}

    def start(self) -> "Corpora":
        threading.Thread(target=self._load_all, daemon=True, name="corpora").start()
        return self

    def _load_all(self):
        for g in GENRES:  # jazz first: it is small
            try:
                self.loaded[g] = corpus.load(g, SETTINGS)
            except Exception as exc:  # shown on the page, never a crash
                self.failed[g] = f"{type(exc).__name__}: {exc}"
            self.ready[g].set()

    def get(self, genre: str) -> corpus.Corpus:
        if genre not in GENRES:
            raise gr.Error(f"Unknown genre {genre!r}: choose jazz or folk.")
        if not self.ready[genre].wait(timeout=1.0):
            raise gr.Error(f"The {genre} data is still being read (only on the first start of "
                           f"this machine, a few minutes). Please try again shortly.")
        if genre in self.failed:
            raise gr.Error(f"The {genre} data could not be loaded: {self.failed[genre]}")
        return self.loaded[genre]


def status_markdown(corpora: Corpora) -> str:
    lines = [f"**Data folder:** `{paths.data_dir()}`"]
    for g in GENRES:
        if g in corpora.failed:
            lines.append(f"- **{g}**: not loaded — {corpora.failed[g]}")
        elif g in corpora.loaded:
            c = corpora.loaded[g]
            kept = sum(len(v) for v in c.pieces.values())
            lines.append(f"- **{g}** ({c.source}): {c.read:,} pieces, {c.notes:,} notes read; "
                         f"{kept:,} major-key pieces kept, transposed to C")
        else:
            lines.append(f"- **{g}**: loading…")
    ckpts = sorted(p.name for p in (paths.PROJECT_ROOT / "checkpoints").glob("*.safetensors"))
    lines.append(f"- **checkpoints**: {', '.join(ckpts) if ckpts else 'none trained yet'}")
    return "\n".join(lines)


def play_real(corpora: Corpora, genre: str, seed: int | None = None):
    """A random 16-beat window of a test-split piece: audio, piano roll, description."""
    c = corpora.get(genre)
    windows = c.windows("test")
    if not windows:
        raise gr.Error(f"No {genre} test windows under the current settings.")
    w = random.Random(seed).choice(windows)
    try:
        audio = default_renderer().render(w)
    except AudioError as exc:
        raise gr.Error(str(exc)) from exc
    start = w.extra["window_start"]
    info = (f"**{w.title or w.source_id}** (`{w.source_id}`), beats {start:g}–"
            f"{start + SETTINGS.window_beats:g}, {corpus.meter_name(w.meter)} at {w.tempo:.0f} bpm, "
            f"transposed {w.transposition:+d} semitones to C {w.key_mode}.")
    return default_renderer().to_gradio(audio), pianoroll.figure(w), info


def build_app(corpora: Corpora | None = None) -> gr.Blocks:
    corpora = corpora or Corpora().start()
    with gr.Blocks(title="FusionGAN") as demo:
        gr.Markdown(
            "# FusionGAN\nLearning to fuse jazz and folk melodies (Chen et al., ICDM 2017, and "
            "beyond). The trained systems, the listening test and its results arrive here soon; "
            "for now, listen to the real melodies the models learn from.")
        status = gr.Markdown(status_markdown(corpora), elem_id="status")
        with gr.Row():
            genre = gr.Radio(list(GENRES), value="jazz", label="Genre", elem_id="genre")
            play = gr.Button("Play a real melody", variant="primary", elem_id="play")
        info = gr.Markdown(elem_id="info")
        audio = gr.Audio(label="Melody", autoplay=True, elem_id="audio")
        roll = gr.Plot(label="Piano roll", elem_id="roll")
        play.click(lambda g: play_real(corpora, g), inputs=genre, outputs=[audio, roll, info],
                   api_name="play_real", concurrency_limit=4)
        play.click(lambda: status_markdown(corpora), outputs=status)
        demo.load(lambda: status_markdown(corpora), outputs=status)
    return demo


def main() -> None:
    port = int(os.environ.get("FUSION_PORT", "7860"))
    build_app().launch(server_name="127.0.0.1", server_port=port, show_error=True)


if __name__ == "__main__":
    main()
