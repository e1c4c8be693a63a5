"""The app as visitors and API users meet it: `python app.py` on 127.0.0.1, driven through
gradio_client and through Debian's Chromium (playwright)."""
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from fusion.render import midi, score
from tests.helpers import App, AppDidNotStart, QUIET_ENV

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# system, fusion, bars, tempo, temperature, seed, randomize, instrument
SETTINGS = ["fusion", 0.0, 8, 120, 1.0, 42, False, "Alto Sax"]

pytestmark = [pytest.mark.slow, pytest.mark.data]  # every test here talks to a started app


@pytest.fixture(scope="module")
def app_url(jazz_melodies, kern_parsed, tmp_path_factory):
    """The app started as `python app.py --port P` (corpora already in the disk cache)."""
    app = App(env={**QUIET_ENV, "FUSION_SURVEY_DIR": str(tmp_path_factory.mktemp("survey"))},  # not .survey/
              log=tmp_path_factory.mktemp("app") / "app.log")
    try:
        app.start()
    except AppDidNotStart as exc:
        pytest.fail(str(exc))
    yield app.url + "/"
    app.stop(timeout=20)


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


def _wav(path):
    """(sample rate, samples) of the audio file the app sent: MP3 for the page (decoded by
    libsndfile), WAV in downloads."""
    import soundfile

    data, rate = soundfile.read(path, dtype="int16")
    return rate, data.astype(float)


def test_api_names_its_parameters(client):
    info = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(info) >= {"/generate", "/continue_melody", "/generate_batch", "/compare"}
    names = [p["parameter_name"] for p in info["/generate"]["parameters"]]
    assert names == ["system", "fusion", "bars", "tempo", "temperature", "seed", "randomize", "instrument"]


def test_generate_endpoint(client):
    seed, audio, midi_path, roll, hist, verdict, provenance, score_svg, musicxml_path = client.predict(
        *SETTINGS, api_name="/generate")  # the page's WAV download is not part of the API's answer
    assert seed == 42
    rate, data = _wav(audio)
    m = midi.midi_to_melody(midi_path)
    seconds = len(data) / rate
    assert rate == 44100 and 16 <= seconds <= 16 + 3  # 8 bars at 120 bpm: 16 s (the final rest heard) + release
    assert np.sqrt(np.mean(data ** 2)) > 100
    assert audio.endswith(".mp3") and Path(audio).stat().st_size < 0.25 * 2 * len(data)  # under a quarter of 16-bit PCM
    assert len(m.notes) >= 1 and m.duration <= 32 + 1e-6
    assert roll["type"] == "plotly" and hist["type"] == "plotly"
    assert "seed **42**" in provenance and "Fusion" in provenance
    assert "judge" in verdict
    assert _score_notes(musicxml_path) == [(n.pitch, round(n.onset * 12), round(n.duration * 12)) for n in m.quantize().notes]
    assert len(_measures(musicxml_path)) == 8 and score_svg.count(' class="measure"') == 2 * 8  # wide + narrow


def _score_notes(path):
    """(MIDI pitch, onset tick, length in ticks) of a MusicXML file's notes, ties joined (12 ticks a beat)."""
    from music21 import converter

    return [(n.pitch.midi, round(n.offset * 12), round(n.quarterLength * 12))
            for n in converter.parse(str(path)).stripTies().flatten().notes]


def _measures(path):
    from music21 import converter

    return list(converter.parse(str(path)).parts[0].getElementsByClass("Measure"))


def test_same_seed_same_midi_and_a_new_seed_when_asked(client):
    a = client.predict(*SETTINGS, api_name="/generate")
    b = client.predict(*SETTINGS, api_name="/generate")
    assert Path(a[2]).read_bytes() == Path(b[2]).read_bytes()
    c = client.predict(*SETTINGS[:6], True, SETTINGS[7], api_name="/generate")
    assert c[0] != 42


@pytest.mark.parametrize("system", ["jazz", "folk", "mle", "gan", "rl", "mc", "rm", "real jazz", "real folk"])
def test_every_system_answers(client, system):
    out = client.predict(system, 0.0, 4, 100, 1.0, 7, False, "Acoustic Grand Piano", api_name="/generate")
    assert len(midi.midi_to_melody(out[2]).notes) >= 1
    assert np.abs(_wav(out[1])[1]).max() > 0


def test_continue_and_batch_endpoints(client, tmp_path):
    out = client.predict(*SETTINGS[:2], 2, *SETTINGS[3:], None, "folk", api_name="/continue_melody")
    assert "Continues 4 bars of" in out[6]
    assert "new bars" in out[7] and "new bars" in Path(out[8]).read_text()
    seed, zpath, hist, verdict, prov = client.predict("gan", 0.0, 2, 120, 1.0, 3, False, "Violin", 3,
                                                      api_name="/generate_batch")
    with zipfile.ZipFile(zpath) as z:
        assert sum(n.endswith(".wav") for n in z.namelist()) == 3 == sum(n.endswith(".mid") for n in z.namelist())
    assert "3 melodies" in prov


def test_compare_endpoint_plays_one_seed_at_the_slider_s_ends_and_middle(client):
    seed, *shown = client.predict(2, 120, 1.0, 5, False, "Flute", api_name="/compare")
    assert seed == 5 and len(shown) == 12
    audios, rolls, verdicts, scores = shown[0::4], shown[1::4], shown[2::4], shown[3::4]
    assert len({Path(a).read_bytes() for a in audios}) == 3  # three different melodies
    assert all(r.count('class="note"') >= 1 for r in rolls) and all("judge" in v for v in verdicts)
    assert all(sc.count(' class="measure"') == 2 for sc in scores)  # two bars, narrow layout only


@pytest.mark.parametrize("position,genre,other", [(-1.0, "jazz", "folk"), (1.0, "folk", "jazz")])
def test_slider_extremes_sound_like_their_genre_through_the_api(client, position, genre, other):
    from fusion import demo
    from fusion.data import corpus
    from fusion import features

    _, zpath, *_ = client.predict(demo.MIDPOINT, position, 4, 120, 1.0, 9, False, "Flute", 32,
                                  api_name="/generate_batch")
    with zipfile.ZipFile(zpath) as z:
        mels = [midi.midi_to_melody(z.read(n)).quantize() for n in z.namelist() if n.endswith(".mid")]
    assert len(mels) == 32
    pc, du = features.NPD.histogram(mels), demo.duration_classes(mels)
    real = {g: corpus.load(g).windows("test") for g in ("jazz", "folk")}
    ref = {g: (features.NPD.histogram(w), demo.duration_classes(w)) for g, w in real.items()}
    assert np.linalg.norm(pc - ref[genre][0]) < np.linalg.norm(pc - ref[other][0])
    assert np.linalg.norm(du - ref[genre][1]) < np.linalg.norm(du - ref[other][1])


def _error(client, *args, api="/generate"):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as info:
        client.predict(*args, api_name=api)
    return str(info.value)


def test_bad_input_is_refused_clearly_and_the_app_keeps_serving(client, tmp_path):
    assert "greater than maximum" in _error(client, "fusion", 0.0, 500, 120, 1.0, 1, False, "Alto Sax")
    assert "polka is not in the list of choices" in _error(client, "polka", 0.0, 4, 120, 1.0, 1, False, "Alto Sax")
    assert "Kazoo is not in the list of choices" in _error(client, "fusion", 0.0, 4, 120, 1.0, 1, False, "Kazoo")
    assert "whole number" in _error(client, "fusion", 0.0, 4, 120, 1.0, None, False, "Alto Sax")
    from gradio_client import handle_file

    import pretty_midi

    drums = pretty_midi.PrettyMIDI()
    kit = pretty_midi.Instrument(program=0, is_drum=True)
    kit.notes.append(pretty_midi.Note(velocity=100, pitch=36, start=0, end=0.5))
    drums.instruments.append(kit)
    drums.write(str(tmp_path / "drums.mid"))
    cases = {"text.mid": b"hello, I am not MIDI", "empty.mid": b"",
             "broken.mid": b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\xff\xff",
             "drums.mid": (tmp_path / "drums.mid").read_bytes()}
    for name, content in cases.items():
        p = tmp_path / name
        p.write_bytes(content)
        message = _error(client, *SETTINGS, handle_file(str(p)), "none", api="/continue_melody")
        assert "MIDI" in message or "empty" in message, (name, message)
    assert "only drum notes" in message
    big = tmp_path / "big.mid"
    big.write_bytes(b"MThd" + b"\x00" * 2_000_000)
    with pytest.raises(ValueError, match="exceeds the maximum file size"):  # the client checks first ...
        client.predict(*SETTINGS, handle_file(str(big)), "none", api_name="/continue_melody")
    import httpx  # ... and the server refuses it when sent anyway

    r = httpx.post(client.src.rstrip("/") + "/gradio_api/upload", files={"files": ("big.mid", big.read_bytes())})
    assert r.status_code == 413 and "maximum allowed size" in r.text
    assert "upload a MIDI file" in _error(client, *SETTINGS, None, "none", api="/continue_melody")
    assert client.predict(*SETTINGS, api_name="/generate")[0] == 42  # still serving


def test_twenty_simultaneous_api_calls_all_succeed(app_url):
    from gradio_client import Client

    def call(i):
        c = Client(app_url, verbose=False)
        return c.predict("fusion", 0.0, 4, 120, 1.0, 100 + i, False, "Flute", api_name="/generate")

    t = time.time()
    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(call, range(20)))
    assert time.time() - t < 180
    assert [r[0] for r in results] == [100 + i for i in range(20)]
    assert all(Path(r[2]).exists() for r in results)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium (make test does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.mark.browser
def test_page_generates_plays_and_plots_offline(app_url, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(app_url)
    page.wait_for_selector("#generate")
    assert "FusionGAN" in page.inner_text("body")
    page.click("#generate")
    page.wait_for_selector("#audio audio[src], #audio [data-testid='waveform-Listen']", state="attached", timeout=60000)
    page.wait_for_selector("#roll .main-svg", timeout=30000)
    page.wait_for_selector("#hist .main-svg", timeout=30000)
    assert page.locator("#roll g.point").count() >= 1
    page.wait_for_function("document.querySelector('#provenance').innerText.includes('seed')", timeout=30000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo.png"), full_page=True)
    buttons = [b.lower() for b in page.locator("#audio button").evaluate_all(
        "bs => bs.map(b => (b.getAttribute('aria-label') || '') + ' ' + (b.title || '') + ' ' + b.innerText)")]
    assert not any("share" in b for b in buttons)  # no dead "Share" (it needs Hugging Face Spaces)
    page.get_by_role("tab", name="Evaluation").click()  # the latest reports/, figures first
    page.wait_for_function("document.querySelector('#evaluation') && "
                           "document.querySelector('#evaluation').innerText.includes('Table I')", timeout=30000)
    assert page.locator("img[src*='ratio.png']").count() == 1
    page.get_by_role("tab", name="Data").click()
    page.wait_for_function("document.querySelector('#status').innerText.includes('notes read')", timeout=60000)
    assert "Systems loaded:" in page.inner_text("#status")
    outside = [u for u in requests if not u.startswith(("http://127.0.0.1", "data:", "blob:"))]
    assert not outside, outside
    page.close()


@pytest.mark.browser
def test_the_survey_link_says_when_the_test_is_not_open(app_url, browser):
    """This app's survey folder holds no clip pool: the page says so, and how to prepare one."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(app_url + "survey")
    page.wait_for_selector("#closed:not([hidden])", timeout=30000)
    assert "not open yet" in page.inner_text("#closed") and "listening_test prepare" in page.inner_text("#closed")
    assert page.locator("#consent").is_hidden()
    page.close()


# the score, the batch listed melody by melody, the comparison ---------------------------------------------------
DESKTOP = dict(viewport={"width": 1280, "height": 900})
PHONE = dict(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2)
PLAYERS = """scope => [...document.querySelectorAll(scope + ' *')].filter(e => e.shadowRoot)
    .flatMap(e => [...e.shadowRoot.querySelectorAll('audio')])
    .map(a => ({src: a.src, duration: a.duration, time: a.currentTime}))"""


def _judge_ready(app_url):
    """Wait until the app's judge is loaded, so that every melody gets a verdict."""
    import httpx

    deadline = time.time() + 180
    while httpx.get(app_url + "healthz").json()["judge"] != "ready":
        assert time.time() < deadline, "the judge did not load"
        time.sleep(1)


def _page(browser, context):
    """A new page that records every request it makes."""
    page = browser.new_context(accept_downloads=True, **context).new_page()
    page.requests = []
    page.on("request", lambda r: page.requests.append(r.url))
    return page


def _offline(page):
    outside = [u for u in page.requests if not u.startswith(("http://127.0.0.1", "data:", "blob:"))]
    assert not outside, outside


def _settings(page, bars, seed):
    """A fixed seed and a length, as a visitor types them."""
    page.wait_for_selector("#generate")
    page.locator("#randomize input").uncheck()
    page.locator("#seed input").fill(str(seed))
    _slide(page, "bars", bars)


def _slide(page, elem_id, value):
    """Type a slider's value in its number box, and wait until the slider has taken it (typed again
    if it has not within 10 s: an accordion that has just opened may not take the first typing on a
    loaded machine)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = page.locator(f"#{elem_id} input[type=number]")
    for attempt in range(3):
        box.fill(str(value))
        box.press("Enter")
        box.blur()
        try:
            page.wait_for_function(f"document.querySelector('#{elem_id} input[type=range]').value === '{value}'",
                                   timeout=10000)
            return
        except PlaywrightTimeout:
            if attempt == 2:
                raise


def _shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def _plays(page, scope: str, n: int):
    """The ``n`` players inside ``scope``: each has a duration, answers 200 from 127.0.0.1, and
    its time moves when its Play button is pressed."""
    page.wait_for_function(f"({PLAYERS})({scope!r}).filter(p => p.duration > 0).length === {n}", timeout=60000)
    links = page.locator(f"{scope} a.download-link").evaluate_all("as => as.map(a => a.href)")
    assert len(links) == n and all(u.startswith("http://127.0.0.1") for u in links)
    assert all(page.request.get(u).status == 200 for u in links)
    buttons = page.locator(f"{scope} button.play-pause-button")  # labelled Play, then Pause
    assert buttons.count() == n
    for i in range(n):
        buttons.nth(i).click()
        try:
            page.wait_for_function(f"({PLAYERS})({scope!r})[{i}].time > 0", timeout=30000)
        except Exception:
            raise AssertionError(f"player {i} did not play: {page.evaluate(f'({PLAYERS})({scope!r})')}") from None
        buttons.nth(i).click()  # pause
    return page.evaluate(f"({PLAYERS})({scope!r})")


@pytest.mark.browser
def test_the_score_shows_the_bars_and_its_musicxml_holds_the_midi_s_notes(app_url, browser, tmp_path):
    page = _page(browser, DESKTOP)
    fetched = []
    page.on("response", lambda r: fetched.append(r.url))
    page.goto(app_url)
    _settings(page, bars=6, seed=11)
    page.click("#generate")
    page.wait_for_function("document.querySelector('#provenance').innerText.includes('seed **11**') || "
                           "document.querySelector('#provenance').innerText.includes('seed 11')", timeout=60000)
    page.wait_for_selector("#score .score-wide svg", timeout=30000)
    assert page.locator("#score .score-wide g.measure").count() == 6
    # the music font's text face (the tempo mark's note) comes once with the page, not in every SVG
    assert "data:" not in page.locator("#score").inner_html()
    assert page.evaluate("document.fonts.load('20px Leipzig', '\uE1D5').then(f => f.length)") >= 1
    assert page.locator("#score .score-wide").is_visible() and not page.locator("#score .score-narrow").is_visible()
    box, column = page.locator("#score .score-wide").bounding_box(), page.locator("#roll").bounding_box()
    assert box["width"] <= column["width"] + 1 and box["height"] > 50  # the score fits the column
    files = {}
    page.wait_for_selector("#wav a", timeout=30000)  # the WAV comes in the step after the melody
    for elem in ("midi", "musicxml", "wav"):
        with page.expect_download() as info:
            page.locator(f"#{elem} a").first.click()
        files[elem] = tmp_path / info.value.suggested_filename
        info.value.save_as(files[elem])
    assert files["midi"].suffix == ".mid" and files["musicxml"].suffix == ".musicxml"
    rate, wav = wavfile.read(files["wav"])  # 6 bars at 120 bpm: 12 s, then the release
    assert 12 <= len(wav) / rate <= 12 + 3
    assert any(u.split("?")[0].endswith(".mp3") for u in fetched)  # the player streams the small MP3
    m = midi.midi_to_melody(files["midi"]).quantize()
    assert _score_notes(files["musicxml"]) == [(n.pitch, round(n.onset * 12), round(n.duration * 12)) for n in m.notes]
    assert len(_measures(files["musicxml"])) == 6
    _shot(page, "score-desktop.png")
    _offline(page)
    page.context.close()


@pytest.mark.browser
def test_a_continuation_marks_the_new_bars_in_the_score(app_url, browser, tmp_path):
    """Four bars of quarter notes uploaded, two bars continued: bars 1-4 are the player's (grey),
    a double barline ends bar 4 and "new bars" stands over bar 5."""
    import pretty_midi

    tune = pretty_midi.PrettyMIDI(initial_tempo=120)
    piano = pretty_midi.Instrument(program=0)
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    piano.notes += [pretty_midi.Note(90, scale[i % 8], i * 0.5, i * 0.5 + 0.5) for i in range(16)]
    tune.instruments.append(piano)
    tune.write(str(tmp_path / "scale.mid"))
    page = _page(browser, DESKTOP)
    page.goto(app_url)
    _settings(page, bars=2, seed=3)
    page.get_by_text("Continue a melody").click()
    page.locator("input[type=file]").first.set_input_files(str(tmp_path / "scale.mid"))
    page.wait_for_selector("text=scale.mid", timeout=60000)
    page.click("#continue")
    page.wait_for_function("document.querySelector('#provenance').innerText.includes('uploaded file')", timeout=120000)
    page.wait_for_selector("#score .score-wide svg", timeout=30000)
    measures = page.locator("#score .score-wide g.measure")
    assert measures.count() == 6
    marked = [i for i in range(6) if "new bars" in measures.nth(i).inner_html()]
    assert marked == [4]
    grey = [measures.nth(i).locator(f"g.note[color='{score.PRIMER_COLOUR}']").count() for i in range(6)]
    assert grey[:4] == [4, 4, 4, 4] and grey[4:] == [0, 0]
    page.locator("#roll").scroll_into_view_if_needed()
    page.wait_for_selector("#roll .main-svg", timeout=30000)
    assert "new bars" in page.locator("#roll").inner_text()  # the piano roll marks it too
    _shot(page, "continuation-desktop.png")
    _offline(page)
    page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("context,name", [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_a_batch_lists_each_melody_with_its_player_roll_and_verdict(app_url, browser, context, name):
    _judge_ready(app_url)
    page = _page(browser, context)
    page.goto(app_url)
    _settings(page, bars=2, seed=21)
    page.get_by_text("A batch of melodies").click()
    _slide(page, "k", 3)
    page.click("#batch")
    page.wait_for_selector("#batch_items .listed-melody >> nth=2", timeout=90000)
    assert page.locator("#batch_items .listed-melody").count() == 3
    players = _plays(page, "#batch_items", 3)
    assert all(p["duration"] > 0 for p in players)
    assert page.locator("#batch_items svg.roll-thumbnail").count() == 3
    verdicts = page.locator("#batch_items .listed-melody").all_inner_texts()
    assert len(verdicts) == 3 and all("automatic judge hears" in v for v in verdicts)
    assert [h for h in page.locator("#batch_items .listed-melody").all_inner_texts() if "seed 2" in h]
    if name == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1  # nothing runs off the side
    page.locator("#batch_items").scroll_into_view_if_needed()
    _shot(page, f"batch-{name}.png")
    _offline(page)
    page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("context,name", [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_compare_plays_the_slider_s_ends_and_middle_side_by_side(app_url, browser, context, name):
    _judge_ready(app_url)
    page = _page(browser, context)
    page.goto(app_url)
    _settings(page, bars=2, seed=8)
    page.get_by_text("Compare the fusion slider's ends and middle").click()
    page.click("#compare")
    page.wait_for_selector("#compare_score_2 .fusion-score svg", timeout=90000)
    players = _plays(page, "#compare_row", 3)
    assert all(p["duration"] > 0 for p in players)
    audio = [page.request.get(u).body() for u in
             page.locator("#compare_row a.download-link").evaluate_all("as => as.map(a => a.href)")]
    assert len(set(audio)) == 3  # -1, 0 and +1 differ
    for i in range(3):
        assert "automatic judge hears" in page.locator(f"#compare_verdict_{i}").inner_text()
        assert page.locator(f"#compare_roll_{i} svg.roll-thumbnail rect.note").count() >= 1
        assert page.locator(f"#compare_score_{i} g.measure").count() == 2
    boxes = [page.locator(f"#compare_audio_{i}").bounding_box() for i in range(3)]
    if name == "desktop":  # a row of three
        assert abs(boxes[0]["y"] - boxes[2]["y"]) < 5 and boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"]
    else:  # stacked, each as wide as the phone allows
        assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"]
        assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    page.locator("#compare_row").scroll_into_view_if_needed()
    _shot(page, f"compare-{name}.png")
    _offline(page)
    page.context.close()


@pytest.mark.browser
def test_the_score_on_a_phone_is_the_narrow_layout(app_url, browser):
    page = _page(browser, PHONE)
    page.goto(app_url)
    _settings(page, bars=8, seed=2)
    page.click("#generate")
    page.wait_for_selector("#score .score-narrow svg", timeout=60000)
    assert page.locator("#score .score-narrow").is_visible() and not page.locator("#score .score-wide").is_visible()
    assert page.locator("#score .score-narrow g.measure").count() == 8
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    page.locator("#score").scroll_into_view_if_needed()
    _shot(page, "score-phone.png")
    _offline(page)
    page.context.close()


def test_the_provenance_links_to_the_model_card_not_to_a_file_path(client, app_url):
    import urllib.error
    import urllib.request

    provenance = client.predict(*SETTINGS, api_name="/generate")[6]
    assert "[model card](/models/fusion)" in provenance and "checkpoints/" not in provenance
    page = urllib.request.urlopen(app_url + "models/fusion", timeout=30).read().decode()
    assert "<table>" in page and "preset" in page and "`" not in page  # rendered, not raw Markdown
    for bad in ("models/nonesuch", "models/..%2F..%2Fapp.py", "models/%3Cscript%3E"):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(app_url + bad, timeout=30)
        assert err.value.code == 404 and b"<script>" not in err.value.read()
