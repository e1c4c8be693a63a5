"""The app as visitors and API users meet it: `python app.py` on 127.0.0.1, driven through
gradio_client and through Debian's Chromium (playwright)."""
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from fusion.render import midi
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
    assert set(info) >= {"/generate", "/continue_melody", "/generate_batch"}
    names = [p["parameter_name"] for p in info["/generate"]["parameters"]]
    assert names == ["system", "fusion", "bars", "tempo", "temperature", "seed", "randomize", "instrument"]


def test_generate_endpoint(client):
    seed, audio, midi_path, roll, hist, verdict, provenance = client.predict(*SETTINGS, api_name="/generate")
    assert seed == 42
    rate, data = _wav(audio)
    m = midi.midi_to_melody(midi_path)
    seconds = len(data) / rate
    assert rate == 44100 and m.duration / 2 <= seconds <= 16 + 3  # 8 bars at 120 bpm: at most 16 s + release
    assert np.sqrt(np.mean(data ** 2)) > 100
    assert len(m.notes) >= 1 and m.duration <= 32 + 1e-6
    assert roll["type"] == "plotly" and hist["type"] == "plotly"
    assert "seed **42**" in provenance and "Fusion" in provenance
    assert "judge" in verdict


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
    seed, zpath, hist, verdict, prov = client.predict("gan", 0.0, 2, 120, 1.0, 3, False, "Violin", 3,
                                                      api_name="/generate_batch")
    with zipfile.ZipFile(zpath) as z:
        assert sum(n.endswith(".wav") for n in z.namelist()) == 3 == sum(n.endswith(".mid") for n in z.namelist())
    assert "3 melodies" in prov


@pytest.mark.parametrize("position,genre,other", [(-1.0, "jazz", "folk"), (1.0, "folk", "jazz")])
def test_slider_extremes_sound_like_their_genre_through_the_api(client, position, genre, other):
    from fusion import demo
    from fusion.data import corpus
    from fusion.evaluation import features

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
