"""FusionGAN's browser app (Gradio) on http://127.0.0.1:7860: hear, see and download fused melodies.

Four tabs: **Demo** (pick a system, press Generate; the fusion slider; continue a melody;
batches), **Evaluation** (the latest ``reports/`` of ``python -m fusion evaluate``), **Listening
test** (taking part; the researchers' results), **Data** (what is loaded). The engine is :class:`fusion.demo.Demo`; this file is only the page.

    .venv/bin/python app.py [--host 127.0.0.1] [--port 7860]      # or: make run

Named API endpoints (``gradio_client``): ``/generate``, ``/continue_melody``, ``/generate_batch``,
``/compare`` (arguments in the README). Nothing leaves the machine: analytics are off, the theme uses the
system's fonts, plotly and the page's scripts come from the local Gradio bundle.
"""
from __future__ import annotations

from fusion import config

config.quiet_telemetry()  # before Gradio is imported: analytics and telemetry off

import argparse  # noqa: E402
import sys  # noqa: E402
import functools  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402
import torch  # noqa: E402

from fusion import paths  # noqa: E402
from fusion.render.audio import AudioError  # noqa: E402
from fusion.demo import CHOICES, COMPARE, INSTRUMENTS, LABELS, LIMITS, MIDPOINT, Demo, Settings  # noqa: E402
from fusion.render import pianoroll  # noqa: E402

REPORTS = paths.PROJECT_ROOT / "reports"
MAX_UPLOAD = "1mb"
INTRO = """# FusionGAN: jazz and folk, fused
FusionGAN learns to write melodies that are neither plain jazz nor plain folk but a blend of the two
(after *Learning to Fuse Music Genres with Generative Adversarial Dual Learning*, ICDM 2017). Three
neural networks were trained on real jazz solos (Weimar Jazz Database) and folk songs (Essen
collection): one writes jazz, one folk, and the paper's **Fusion** generator is trained to sit
between them. **Blend**, this project's addition, is rewarded only for melodies that both a jazz
critic and a folk critic accept, all through each melody.

**Demo**: choose a system, press **Generate**, listen, and see the notes and how jazz-like or folk-like
they are. Move the **fusion slider** to mix the jazz generator, Blend and the folk generator note by
note.
**Evaluation**: how the systems measure up (the paper's Table I and more). **Data**: what is loaded.
**Listening test**: take part in the survey at [/survey](/survey); researchers read its results at
[/results](/results).
"""


SURVEY_TAB = """## The listening test
The paper's crowd test, run from this app: listeners hear short clips and say whether each is pure
jazz, pure folk, a mixture of both or neither, and who they think composed it.

- **Take part:** [open the survey](/survey) (a few minutes; this browser brings you back where you
  stopped, and the resume code it shows moves your survey to another device). Crowd platforms link
  to `/survey?PROLIFIC_PID=...&STUDY_ID=...&SESSION_ID=...`.
- **Researchers:** [results](/results) (Table II with Fusion Levels and intervals beside the
  paper's, paired differences, musicality by listener group, every participant, figures as SVG and
  PNG, LaTeX and CSV exports), with the password set in `FUSION_RESEARCHER_TOKEN` when the app started.
  The clips come from `python -m listening_test prepare`; `python -m listening_test simulate`
  runs a simulated crowd (README).
"""


def _errors(fn):
    """Run a handler; bad input becomes a message on the page (and in the API), never a crash."""
    @functools.wraps(fn)  # keeps the signature: the API's parameter names and gr.Progress
    def wrapped(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ValueError, AudioError) as exc:  # MidiFileError is a ValueError
            raise gr.Error(str(exc)) from exc
    return wrapped


def _seed(seed, randomize: bool) -> int:
    if randomize:
        return random.randrange(LIMITS["seed"][1])
    if seed is None or seed == "":
        raise ValueError("seed must be a whole number (or tick 'new seed each time')")
    return seed


def _answer(out, seed):
    return (seed, str(out.audio), str(out.midi_path), out.roll, out.histogram, out.verdict, out.provenance,
            out.score_svg, str(out.musicxml_path))


def _listed(out, heading: str) -> dict:
    """One melody of a list on the page (a batch, the comparison): what its row shows."""
    return {"heading": heading, "audio": str(out.audio), "thumbnail": pianoroll.thumbnail(out.melodies[0]),
            "verdict": out.verdict, "score": out.score_svg}


def _downloads():
    """The melody's files side by side: MIDI (to play or edit) and MusicXML (the score, for a
    notation program)."""
    with gr.Row():
        midi_file = gr.File(label="MIDI download", elem_id="midi", min_width=160)
        musicxml_file = gr.File(label="MusicXML download (the score)", elem_id="musicxml", min_width=160)
    return midi_file, musicxml_file


def _score():
    """The melody in standard notation, under the player (a continuation marks its new bars)."""
    return gr.HTML(label="Score", elem_id="score")


def _listed_rows(items: gr.State, elem_id: str):
    """Melodies listed side by side, each with its own player, piano-roll thumbnail and verdict
    (and score when it has one): a grid that folds to one column on a phone."""
    @gr.render(inputs=items)
    def rows(listed):
        if not listed:
            return
        with gr.Row(elem_id=elem_id, equal_height=False):
            for i, item in enumerate(listed):
                with gr.Column(min_width=260, elem_classes="listed-melody", elem_id=f"{elem_id}_{i}"):
                    gr.Markdown(f"**{item['heading']}**")
                    gr.Audio(item["audio"], label=item["heading"], show_label=False, buttons=["download"],
                             elem_classes="listed-audio")
                    gr.HTML(item["thumbnail"], elem_classes="listed-roll")
                    gr.Markdown(item["verdict"], elem_classes="listed-verdict")
                    if item["score"]:
                        gr.HTML(item["score"], elem_classes="listed-score")


def build_app(demo: Demo | None = None) -> gr.Blocks:
    demo = demo or Demo()

    @_errors
    def generate(system, fusion, bars, tempo, temperature, seed, randomize, instrument):
        """One melody from `system` (see the README for the arguments); returns the seed used,
        audio, MIDI file, piano roll, histograms, the judge's verdict, the provenance, the score
        (SVG in HTML) and the MusicXML file."""
        seed = _seed(seed, randomize)
        out = demo.generate(Settings(system, fusion, bars, tempo, temperature, seed, instrument))
        return _answer(out, seed)

    @_errors
    def continue_melody(system, fusion, bars, tempo, temperature, seed, randomize, instrument, midi_file, real):
        """`system` continues an uploaded MIDI file (its last 4 bars) or a real excerpt (`real`:
        'jazz' or 'folk') by `bars` new bars."""
        seed = _seed(seed, randomize)
        s = Settings(system, fusion, bars, tempo, temperature, seed, instrument).checked()
        if midi_file:
            primer, back = demo.primer_from_midi(midi_file)
            note = (f"Continues the last {primer.duration:g} beats of the uploaded file "
                    f"({len(primer.notes)} notes, transposed {-back:+d} semitones to C for the model and back).")
        elif real in ("jazz", "folk"):
            primer, back = demo.real_excerpts(real, 1, 4, seed)[0], 0
            note = f"Continues 4 bars of {primer.title}."
        else:
            raise ValueError("upload a MIDI file or choose a real excerpt (jazz or folk) to continue")
        return _answer(demo.generate(s, primer=primer, shift_back=back, primer_note=note), seed)

    @_errors
    def generate_batch(system, fusion, bars, tempo, temperature, seed, randomize, instrument, k,
                       progress=gr.Progress()):
        """`k` melodies (seeds seed, seed+1, ...) as a zip of MIDI and WAV files, with their
        histograms and the judge's summary; the page also lists each melody with its own player,
        piano-roll thumbnail and verdict (a State, not part of the API's answer)."""
        seed = _seed(seed, randomize)
        s = Settings(system, fusion, bars, tempo, temperature, seed, instrument)
        path, outs = demo.batch_outputs(s, k, progress=lambda f, desc="": progress(f, desc=desc))
        melodies = [out.melodies[0] for out in outs]
        listed = [_listed(out, f"{i + 1}. seed {out.melodies[0].extra.get('seed', seed + i)}")
                  for i, out in enumerate(outs)]
        return seed, str(path), demo.histogram_figure(melodies, s.system), demo.verdict(melodies), \
            demo.provenance(s.checked(), len(melodies), ""), listed

    @_errors
    def compare(bars, tempo, temperature, seed, randomize, instrument):
        """The same seed at fusion slider -1, 0 and +1 (jazz generator, the midpoint system, folk
        generator): returns the seed and, for each, audio, piano-roll thumbnail (SVG), verdict
        and score (SVG)."""
        seed = _seed(seed, randomize)
        outs = demo.compare(Settings(MIDPOINT, 0.0, bars, tempo, temperature, seed, instrument))
        return seed, *(v for out in outs for v in (str(out.audio), pianoroll.thumbnail(out.melodies[0]),
                                                     out.verdict, out.score_svg))

    theme = gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"],
                              font_mono=["ui-monospace", "monospace"])
    with gr.Blocks(title="FusionGAN", delete_cache=(3600, 3600)) as page:
        page.theme_for_launch = theme
        gr.Markdown(INTRO)
        with gr.Tab("Demo"):
            with gr.Row():
                with gr.Column(scale=1, min_width=300):
                    system = gr.Dropdown([(LABELS[c], c) for c in CHOICES], value=MIDPOINT, label="System",
                                         elem_id="system")
                    fusion = gr.Slider(*LIMITS["fusion"], value=0.0, step=0.05, elem_id="fusion",
                                       label=f"Fusion slider: -1 jazz · 0 {LABELS[MIDPOINT]} · +1 folk "
                                             f"(the {MIDPOINT} system only: with PoE, the best-fusing system "
                                             "of the evaluation)")
                    bars = gr.Slider(*LIMITS["bars"], value=8, step=1, label="Length (bars of 4/4)", elem_id="bars")
                    tempo = gr.Slider(*LIMITS["tempo"], value=120, step=1, label="Tempo (beats per minute)")
                    temperature = gr.Slider(*LIMITS["temperature"], value=1.0, step=0.05,
                                            label="Temperature (lower: safer, higher: wilder)")
                    with gr.Row():
                        seed = gr.Number(value=1, precision=0, label="Seed (shown, to reproduce a melody)",
                                         minimum=LIMITS["seed"][0], maximum=LIMITS["seed"][1], elem_id="seed")
                        randomize = gr.Checkbox(value=True, label="new seed each time", elem_id="randomize")
                    instrument = gr.Dropdown(list(INSTRUMENTS), value="Alto Sax", label="Instrument")
                    go_button = gr.Button("Generate", variant="primary", elem_id="generate")
                    with gr.Accordion("Continue a melody", open=False):
                        upload = gr.File(label="MIDI file (at most 1 MB)", file_types=[".mid", ".midi"], type="filepath")
                        real = gr.Radio(["none", "jazz", "folk"], value="none",
                                        label="... or continue a real excerpt")
                        cont_button = gr.Button("Continue", elem_id="continue")
                    with gr.Accordion("A batch of melodies", open=False):
                        k = gr.Slider(*LIMITS["k"], value=8, step=1, label="How many", elem_id="batch_k")
                        batch_button = gr.Button("Generate batch (zip of MIDI and WAV)", elem_id="batch")
                        batch_file = gr.File(label="Batch download", elem_id="batch_file")
                with gr.Column(scale=2):
                    audio = gr.Audio(label="Listen", elem_id="audio", autoplay=False,
                                     buttons=["download"])  # "share" needs Hugging Face Spaces
                    midi_file, musicxml_file = _downloads()
                    score = _score()
                    roll = gr.Plot(label="Piano roll", elem_id="roll")
                    hist = gr.Plot(label="Pitch classes and note lengths over real jazz and real folk", elem_id="hist")
                    verdict = gr.Markdown(elem_id="verdict")
                    provenance = gr.Markdown(elem_id="provenance")
                    batch_items = gr.State([])
                    _listed_rows(batch_items, "batch_items")
            compare_outputs = _compare_view()
            controls = [system, fusion, bars, tempo, temperature, seed, randomize, instrument]
            shown = [seed, audio, midi_file, roll, hist, verdict, provenance, score, musicxml_file]
            go_button.click(generate, controls, shown, api_name="generate")
            cont_button.click(continue_melody, controls + [upload, real], shown, api_name="continue_melody")
            batch_button.click(generate_batch, controls + [k], [seed, batch_file, hist, verdict, provenance, batch_items],
                               api_name="generate_batch")
            compare_outputs[0].click(compare, controls[2:], [seed, *compare_outputs[1:]], api_name="compare")
        with gr.Tab("Evaluation"):
            _evaluation_tab()
        with gr.Tab("Listening test"):
            gr.Markdown(SURVEY_TAB)
        with gr.Tab("Data"):
            status = gr.Markdown(_status(demo), elem_id="status")
            page.load(lambda: _status(demo), outputs=status, api_name=False)
    page.queue(default_concurrency_limit=2, max_size=200)
    return page


def _compare_view():
    """The fusion slider's two ends and its middle side by side: one button plays the same seed
    at -1 (jazz generator), 0 (the midpoint system) and +1 (folk generator), each with its player,
    piano-roll thumbnail, verdict and score. Returns the button, then per position the audio,
    thumbnail, verdict and score components."""
    shown = []
    with gr.Accordion("Compare the fusion slider's ends and middle", open=False, elem_id="compare_box"):
        gr.Markdown(f"The same seed and settings at fusion slider -1 ({LABELS['jazz']}), 0 ({LABELS[MIDPOINT]}) "
                    f"and +1 ({LABELS['folk']}), side by side.")
        button = gr.Button("Compare -1 · 0 · +1", elem_id="compare")
        with gr.Row(equal_height=False, elem_id="compare_row"):
            for i, (position, name) in enumerate(zip(COMPARE, ("jazz", MIDPOINT, "folk"))):
                with gr.Column(min_width=260, elem_classes="listed-melody"):
                    heading = f"{position:+g}: {LABELS[name]}"
                    gr.Markdown(f"**Fusion slider {heading}**")
                    shown += [gr.Audio(label=f"Listen ({heading})", show_label=False, buttons=["download"],
                                       elem_id=f"compare_audio_{i}"),
                              gr.HTML(elem_id=f"compare_roll_{i}"),
                              gr.Markdown(elem_id=f"compare_verdict_{i}"),
                              gr.HTML(elem_id=f"compare_score_{i}")]
    return [button, *shown]


def _evaluation_tab():
    md = REPORTS / "evaluation.md"
    if not md.exists():
        gr.Markdown("No evaluation yet: run `make evaluate` (or `python -m fusion evaluate`).")
        return
    gr.Markdown("Made by `python -m fusion evaluate`; the full report, tables and interactive figures are in "
                "`reports/`. Figures first, then the report.")
    for name, label in (("ratio", "Table I: Ratio beside the paper's"), ("judge", "The automatic judge's labels"),
                        ("npd", "Pitch classes per system"), ("dd", "Note durations per system")):
        png = REPORTS / "figures" / f"{name}.png"
        if png.exists():
            gr.Image(str(png), label=label, show_label=True, interactive=False)
    text = md.read_text()
    gr.Markdown(text.split("\n", 1)[1] if text.startswith("# ") else text, elem_id="evaluation")
    files = [str(REPORTS / f) for f in ("table1.csv", "sequential.csv", "novelty.csv", "judge.csv")
             if (REPORTS / f).exists()]
    if files:
        gr.File(files, label="The tables (CSV)", interactive=False)


JUDGE_STATES = {"ready": "ready", "training": "training (once per machine)…", "unavailable": "unavailable"}


def _status(demo: Demo) -> str:
    st = demo.status()
    lines = [f"**Data folder:** `{paths.data_dir()}`",
             f"**Systems loaded:** {', '.join(st.systems) or 'none (train them: make train)'}"]
    if st.error:
        lines.append(f"**Real data:** not loaded: {st.error}")
    elif st.data_ready:
        for c in st.corpora:
            lines.append(f"- **{c.genre}** ({c.source}): {c.read:,} pieces, {c.notes:,} notes read; "
                         f"{c.kept:,} major-key pieces kept, transposed to C")
    else:
        lines.append("**Real data:** loading…")
    lines.append(f"**Automatic judge:** {JUDGE_STATES[st.judge]}")
    return "\n\n".join(lines)


def make_server_app(demo: Demo, database_url: str | None = None):
    """The whole site: the Gradio page at ``/``, the survey at ``/survey``, the researchers'
    results at ``/results`` (``listening_test.web``), on one FastAPI app."""
    from fastapi import FastAPI

    from listening_test import db, web

    sessions = db.sessions(db.make_engine(database_url))
    api = FastAPI(title="FusionGAN", docs_url=None, redoc_url=None, openapi_url=None)
    web.install(api, sessions, completion_url=config.completion_url(), contact=config.contact(),
                headphones=config.headphone_check())

    @api.get("/healthz")
    def healthz():
        """What is loaded, as JSON (for monitoring, and for benchmarks that wait for a quiet app)."""
        st = demo.status()
        return {"systems": list(st.systems), "data_ready": st.data_ready, "judge": st.judge, "error": st.error,
                "loading": not st.data_ready or st.judge == "training"}

    page = build_app(demo)
    return gr.mount_gradio_app(api, page, path="/", theme=page.theme_for_launch, max_file_size=MAX_UPLOAD,
                               allowed_paths=[str(REPORTS)], footer_links=[], show_error=True)


def main(argv=None) -> None:
    import threading

    import uvicorn

    parser = argparse.ArgumentParser(description="FusionGAN's browser app")
    parser.add_argument("--host", default=config.host(), help="default: $FUSION_HOST or 127.0.0.1")
    parser.add_argument("--port", type=int, default=config.port(), help="default: $FUSION_PORT or 7860")
    args = parser.parse_args(argv)
    sys.setswitchinterval(0.001)  # hand the GIL over sooner: short requests wait less behind busy threads
    torch.set_num_threads(1)  # one melody is a few hundred tiny steps: threads only add overhead
    t0 = time.time()
    demo = Demo(defer=True)  # the real data and the judge are read once the page is up
    demo.warm_up()
    server = uvicorn.Server(uvicorn.Config(make_server_app(demo), host=args.host, port=args.port,
                                           log_level="warning", timeout_graceful_shutdown=5))

    def when_up():
        while not server.started:
            time.sleep(0.05)
        print(f"FusionGAN ready in {time.time() - t0:.1f} s on http://{args.host}:{args.port} "
              f"(survey: /survey, results: /results)", flush=True)
        demo.start_loading()

    threading.Thread(target=when_up, daemon=True).start()
    server.run()


if __name__ == "__main__":
    main()
