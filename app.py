"""FusionGAN's browser app (Gradio) on http://127.0.0.1:7860: hear, see and download fused melodies.

Four tabs: **Demo** (pick a system, press Generate; the fusion slider; continue a melody;
batches), **Evaluation** (the latest ``reports/`` of ``python -m fusion evaluate``), **Listening
test** (taking part; the researchers' results), **Data** (what is loaded). The engine is :class:`fusion.demo.Demo`; this file is only the page,
assembled with its parts in ``ui/`` (refusals, links, the session zip, the first-run banner, phones).

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
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402
import torch  # noqa: E402

from fusion import paths  # noqa: E402
from fusion.render.audio import AudioError  # noqa: E402
from fusion.demo import CHOICES, COMPARE, INSTRUMENTS, LABELS, LIMITS, MIDPOINT, REAL, Demo, Settings, check_number  # noqa: E402
from fusion.render import pianoroll  # noqa: E402
from ui import errors, links, loading, phone, session  # noqa: E402

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
    """Run a handler; bad input becomes a message on the page (and in the API) and one line in the
    log, never a crash or a traceback."""
    @functools.wraps(fn)  # keeps the signature: the API's parameter names and gr.Progress
    def wrapped(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ValueError, AudioError) as exc:  # MidiFileError is a ValueError
            raise errors.refused(fn.__name__.removeprefix("check_"), exc) from exc
    return wrapped


#: the page's own follow-up steps: not API endpoints, no spinner
QUIET = dict(api_visibility="private", show_progress="hidden")


def _seed(seed, randomize: bool) -> int:
    if randomize:
        return random.randrange(LIMITS["seed"][1])
    if seed is None or seed == "":
        raise ValueError("seed must be a whole number (or tick 'new seed each time')")
    return seed


def _answer(out, seed):
    return (seed, str(out.audio), str(out.midi_path), out.roll, out.histogram, out.verdict, out.provenance,
            out.score_svg, str(out.musicxml_path), str(out.wav_path))


def _listed(out, heading: str) -> dict:
    """One melody of a list on the page (a batch, the comparison): what its row shows."""
    return {"heading": heading, "audio": str(out.audio), "thumbnail": pianoroll.thumbnail(out.melodies[0]),
            "verdict": out.verdict, "score": out.score_svg}


def _downloads():
    """The melody's files side by side: MIDI (to play or edit), MusicXML (the score, for a
    notation program) and WAV (uncompressed audio; the player above streams a small MP3)."""
    with gr.Row():
        midi_file = gr.File(label="MIDI download", elem_id="midi", min_width=160, interactive=False)
        musicxml_file = gr.File(label="MusicXML download (the score)", elem_id="musicxml", min_width=160,
                                interactive=False)
        wav_file = gr.File(label="WAV download (audio)", elem_id="wav", min_width=160, interactive=False)
    return midi_file, musicxml_file, wav_file


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

    # checked before a run, so that a refused request leaves every output as it was ---------------
    def _asked(system, fusion, bars, tempo, temperature, seed, randomize, instrument) -> Settings:
        if not randomize:
            _seed(seed, randomize)
        s = Settings(system, fusion, bars, tempo, temperature, 0 if randomize else seed, instrument).checked()
        if s.system in REAL:
            _real_ready()
        return s

    def _real_ready():
        st = demo.status()
        if st.error:
            raise ValueError(f"the real excerpts are not available: the real data could not be loaded ({st.error})")
        if not loading.real_ready(st):
            raise ValueError("the real excerpts are not ready yet: the real data is still loading "
                             "(the progress is at the top of the Demo tab); the generators work now")

    @_errors
    def check_generate(*controls):
        """The settings of a Generate, checked (a dict for the steps after it)."""
        return _asked(*controls).__dict__

    @_errors
    def check_continue(*args):
        """The settings and the start of a Continue, checked (the uploaded file is read here)."""
        *controls, midi_path, real = args
        s = _asked(*controls)
        if s.system in REAL:
            raise ValueError("real excerpts cannot continue a melody; choose a generator")
        if midi_path:
            demo.primer_from_midi(midi_path)
        elif real in ("jazz", "folk"):
            _real_ready()
        else:
            raise ValueError("upload a MIDI file or choose a real excerpt (jazz or folk) to continue")
        return s.__dict__

    @_errors
    def check_batch(*args):
        """The settings of a batch and how many, checked."""
        *controls, k = args
        s = _asked(*controls)
        check_number("k", k, integer=True)
        return s.__dict__

    # after a run: the session keeps it, the outputs of the other kind of run are cleared --------
    def after_generate(asked, seed, midi_path, prov, items, wav):
        """A generated melody joins the session; its link; its WAV download (kept out of the API's
        answer, which sends the MP3); the batch download and list are cleared."""
        s = Settings(**{**asked, "seed": seed}).checked()
        link = links.query(s)
        items = [*items, session.entry("generate", s.__dict__, Path(midi_path).read_bytes(), prov, link)]
        return items, None, [], link, wav

    def after_continue(asked, seed, midi_path, prov, items, wav):
        """A continued melody joins the session (no link: it depends on its start); its WAV
        download; the batch download is cleared."""
        s = {**asked, "seed": seed}
        return [*items, session.entry("continue", s, Path(midi_path).read_bytes(), prov)], None, [], "", wav

    def after_batch(asked, seed, zip_path, prov, items):
        """A batch's melodies join the session; the single melody's player, MIDI file, piano roll,
        score, MusicXML and WAV files and link are cleared (the histograms, verdict and provenance now describe the batch)."""
        return [*items, *session.from_batch(zip_path, {**asked, "seed": seed}, prov)], None, None, None, "", None, None, ""

    @_errors
    def download_session(items):
        """Everything made in this browser session, as one zip."""
        path = session.write_zip(items, demo.renderer, tempfile.mkdtemp(dir=demo.workdir))
        return gr.update(value=str(path), visible=True)

    def from_link(request: gr.Request):
        """The controls set from the page's address (``/?system=...&seed=...``); a note says what
        was set and which values were left out."""
        values, problems = links.read(request.query_params if request else {})
        if problems:
            errors.log.info("link values left out: %s", "; ".join(problems))
        note = links.describe(values)
        if problems:
            note += ("\n\n" if note else "") + "**Left out of the link:** " + "; ".join(problems) + "."
        updates = [gr.update(value=values[n]) if n in values else gr.skip() for n in links.FIELDS]
        randomize_update = gr.update(value=False) if "seed" in values else gr.skip()
        return (*updates[:6], randomize_update, updates[6], gr.update(value=note, visible=bool(note)))

    def refresh_loading():
        """What is still loading (the banner, the Data tab), whether real excerpts can be asked for,
        and whether to keep refreshing."""
        st = demo.status()
        text, ready = loading.banner(st), loading.real_ready(st)
        info = None if ready else "available once the real data has loaded (see the top of the page)"
        return (gr.update(value=text, visible=bool(text)), gr.update(interactive=ready, info=info), _status(demo),
                gr.Timer(active=not loading.settled(st)))

    theme = gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"],
                              font_mono=["ui-monospace", "monospace"])
    with errors.Page(title="FusionGAN", delete_cache=(3600, 3600)) as page:
        page.theme_for_launch = theme
        gr.Markdown(INTRO)
        with gr.Tab("Demo"):
            loading_note = gr.Markdown(visible=False, elem_id="loading")
            link_note = gr.Markdown(visible=False, elem_id="link_note")
            timer = gr.Timer(2.0)
            asked, items = gr.State(), gr.State([])
            with gr.Row():
                with gr.Column(scale=1, min_width=300):
                    system = gr.Dropdown([(LABELS[c], c) for c in CHOICES], value=MIDPOINT, label="System",
                                         elem_id="system")
                    fusion = gr.Slider(*LIMITS["fusion"], value=0.0, step=0.05, elem_id="fusion",
                                       label=f"Fusion slider: -1 jazz · 0 {LABELS[MIDPOINT]} · +1 folk "
                                             f"({MIDPOINT} only: the best-fusing single generator of the "
                                             "evaluation)")
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
                        k = gr.Slider(*LIMITS["k"], value=8, step=1, label="How many", elem_id="k")
                        batch_button = gr.Button("Generate batch (zip of MIDI and WAV)", elem_id="batch")
                        batch_file = gr.File(label="Batch download", elem_id="batch_file", interactive=False)
                with gr.Column(scale=2):
                    audio = gr.Audio(label="Listen", elem_id="audio", autoplay=False,
                                     buttons=["download"])  # "share" needs Hugging Face Spaces
                    midi_file, musicxml_file, wav_file = _downloads()
                    score = _score()
                    roll = gr.Plot(label="Piano roll", elem_id="roll")
                    hist = gr.Plot(label="Pitch classes and note lengths", elem_id="hist")
                    verdict = gr.Markdown(elem_id="verdict")
                    provenance = gr.Markdown(elem_id="provenance")
                    batch_items = gr.State([])
                    _listed_rows(batch_items, "batch_items")
                    link, copy_button, copy_note, session_button, session_file = _share_row()
            compare_outputs = _compare_view()
            controls = [system, fusion, bars, tempo, temperature, seed, randomize, instrument]
            wav_made = gr.State(None)  # the WAV beside the player's MP3: shown by the step after the API's
            shown = [seed, audio, midi_file, roll, hist, verdict, provenance, score, musicxml_file, wav_made]
            single = [audio, midi_file, roll, score, musicxml_file, wav_file]
            made = [asked, seed, midi_file, provenance, items, wav_made]  # what the session keeps of a melody
            go_button.click(check_generate, controls, asked, **QUIET) \
                .success(generate, controls, shown, api_name="generate") \
                .success(after_generate, made, [items, batch_file, batch_items, link, wav_file], **QUIET) \
                .success(None, link, link, js=phone.SHOW_MELODY_JS)
            cont_button.click(check_continue, controls + [upload, real], asked, **QUIET) \
                .success(continue_melody, controls + [upload, real], shown, api_name="continue_melody") \
                .success(after_continue, made, [items, batch_file, batch_items, link, wav_file], **QUIET) \
                .success(None, link, link, js=phone.SHOW_MELODY_JS)
            batch_button.click(check_batch, controls + [k], asked, **QUIET) \
                .success(generate_batch, controls + [k], [seed, batch_file, hist, verdict, provenance, batch_items],
                         api_name="generate_batch") \
                .success(after_batch, [asked, seed, batch_file, provenance, items], [items, *single, link], **QUIET) \
                .success(None, link, link, js=phone.SHOW_MELODY_JS)
            compare_outputs[0].click(compare, controls[2:], [seed, *compare_outputs[1:]], api_name="compare")
            copy_button.click(None, link, copy_note, js=phone.COPY_LINK_JS)
            session_button.click(download_session, items, session_file, api_visibility="private")
        with gr.Tab("Evaluation"):
            _evaluation_tab()
        with gr.Tab("Listening test"):
            gr.Markdown(SURVEY_TAB)
        with gr.Tab("Data"):
            status = gr.Markdown(_status(demo), elem_id="status")
            page.load(lambda: _status(demo), outputs=status, api_name=False)
        page.load(from_link, None, controls + [link_note], **QUIET)
        page.load(refresh_loading, None, [loading_note, real, status, timer], **QUIET)
        timer.tick(refresh_loading, None, [loading_note, real, status, timer], **QUIET)
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


def _share_row():
    """Under a melody: its link (with a "Copy link" button, and the link in a box for browsers that
    do not let the page copy) and the download of everything made in this browser session."""
    with gr.Group():
        link = gr.Textbox(label="Link to this melody (its settings and seed)", interactive=False, elem_id="link",
                          placeholder="appears after Generate")
        with gr.Row():
            copy_button = gr.Button("Copy link", size="sm", elem_id="copy_link")
            session_button = gr.Button("Download session (zip)", size="sm", elem_id="session")
        copy_note = gr.Markdown(elem_id="copy_note")
    session_file = gr.File(label="Everything made in this session: MIDI, audio and settings of each melody",
                           elem_id="session_file", interactive=False, visible=False)
    return link, copy_button, copy_note, session_button, session_file


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


JUDGE_STATES = {"ready": "ready", "training": "not ready yet (waits for the real data, then is trained once per "
                "machine; the progress is at the top of the Demo tab)", "unavailable": "unavailable"}


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
        lines.append("**Real data:** loading (the progress is at the top of the Demo tab)…")
    lines.append(f"**Automatic judge:** {JUDGE_STATES[st.judge]}")
    return "\n\n".join(lines)


def _model_card(name: str) -> tuple[str, int]:
    """(HTML, status) of a system's model card; 404 for a name that is not a trained system."""
    import html

    from markdown_it import MarkdownIt

    from fusion import registry

    card = paths.PROJECT_ROOT / "checkpoints" / name / "README.md"
    if name not in registry.TRAINED or not card.is_file():
        return (f"<!doctype html><title>Not found</title><p>No model card for {html.escape(name)!s}. "
                f"Systems: {', '.join(registry.TRAINED)}.</p>", 404)
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(card.read_text(encoding="utf-8"))
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>Model card: {html.escape(name)}</title>'
            f"<style>body{{font-family:system-ui,sans-serif;max-width:52rem;margin:1rem auto;padding:0 1rem;"
            f"line-height:1.45}}table{{border-collapse:collapse;display:block;overflow-x:auto}}"
            f"td,th{{border:1px solid #ccc;padding:.2rem .5rem;vertical-align:top}}code{{font-size:.9em}}</style>"
            f'</head><body><p><a href="/">← FusionGAN</a></p>{body}</body></html>', 200)


def make_server_app(demo: Demo, database_url: str | None = None):
    """The whole site: the Gradio page at ``/``, the survey at ``/survey``, the researchers'
    results at ``/results`` (``listening_test.web``), on one FastAPI app."""
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse

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

    @api.get("/fonts/score-text.css")
    def score_font():
        """The music font's text face for the scores' tempo marks (loaded once by the page, cached)."""
        from fastapi.responses import Response

        from fusion.render import score as engraving

        return Response(engraving.text_font_css(), media_type="text/css",
                        headers={"Cache-Control": "public, max-age=86400"})

    @api.get("/models/{name}", response_class=HTMLResponse)
    def model_card(name: str):
        """A system's model card (``checkpoints/<name>/README.md``) as a page: how it was trained."""
        return HTMLResponse(*_model_card(name))

    page = build_app(demo)
    api.add_middleware(errors.UploadRefusals)
    return gr.mount_gradio_app(api, page, path="/", theme=page.theme_for_launch, max_file_size=MAX_UPLOAD,
                               allowed_paths=[str(REPORTS)], footer_links=[], show_error=True, css=phone.CSS,
                               head='<link rel="stylesheet" href="/fonts/score-text.css">')


def main(argv=None) -> None:
    import threading

    import uvicorn

    parser = argparse.ArgumentParser(description="FusionGAN's browser app")
    parser.add_argument("--host", default=config.host(), help="default: $FUSION_HOST or 127.0.0.1")
    parser.add_argument("--port", type=int, default=config.port(), help="default: $FUSION_PORT or 7860")
    args = parser.parse_args(argv)
    errors.configure_logging()
    sys.setswitchinterval(0.001)  # hand the GIL over sooner: short requests wait less behind busy threads
    torch.set_num_threads(1)  # one melody is a few hundred tiny steps: threads only add overhead
    t0 = time.time()
    demo = Demo(defer=True)  # the real data and the judge are read once the page is up
    server = uvicorn.Server(uvicorn.Config(make_server_app(demo), host=args.host, port=args.port,
                                           log_level="warning", timeout_graceful_shutdown=5))

    def when_up():
        while not server.started:
            time.sleep(0.05)
        print(f"FusionGAN ready in {time.time() - t0:.1f} s on http://{args.host}:{args.port} "
              f"(survey: /survey, results: /results)", flush=True)
        demo.warm_up()  # one throw-away melody (plotly's, music21's and verovio's first calls), after the page is up
        demo.start_loading()

    threading.Thread(target=when_up, daemon=True).start()
    server.run()


if __name__ == "__main__":
    main()
