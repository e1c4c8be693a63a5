"""The app in a real browser (Debian's chromium via playwright) on 127.0.0.1."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(jazz_melodies, kern_parsed, tmp_path_factory):
    """The app started as `python app.py` would be (corpora already in the disk cache)."""
    port = _free_port()
    log = open(tmp_path_factory.mktemp("app") / "app.log", "w+")
    env = {**os.environ, "FUSION_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False",
           "HF_HUB_DISABLE_TELEMETRY": "1"}
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            pytest.fail(f"app exited: {log.read()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("app did not answer within 120 s")
    yield url
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium (make test does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.mark.parametrize("genre", ["jazz", "folk"])
def test_page_plays_a_real_melody(app_url, browser, genre):
    page = browser.new_page()
    page.goto(app_url)
    page.wait_for_selector("#play")
    assert "FusionGAN" in page.title() + page.inner_text("body")
    page.wait_for_function("document.querySelector('#status').innerText.includes('notes read')",
                           timeout=60000)
    status = page.inner_text("#status")
    assert "200,814 notes read" in status and "8,473 pieces" in status
    page.get_by_label(genre).check()
    page.click("#play")
    page.wait_for_selector("#info p", timeout=60000)
    info = page.inner_text("#info")
    assert "transposed" in info and ("wjazzd:" if genre == "jazz" else "essen:") in info
    # the audio player got a real file and the piano roll drew one bar per note
    page.wait_for_selector("#audio audio, #audio [data-testid='waveform-Melody'], #audio .waveform-container",
                           state="attached", timeout=30000)
    page.wait_for_selector("#roll .plot-container", timeout=30000)
    assert page.locator("#roll g.point").count() >= 4
    page.close()


def test_audio_of_the_api_is_a_real_wav(app_url, tmp_path):
    """The same handler through Gradio's HTTP API: the file it returns is non-silent audio."""
    from gradio_client import Client

    import numpy as np
    from scipy.io import wavfile

    client = Client(app_url, verbose=False)
    audio_path, _, info = client.predict("folk", api_name="/play_real")
    rate, data = wavfile.read(audio_path)
    assert rate == 44100 and data.size > rate * 2
    assert np.sqrt(np.mean(data.astype(float) ** 2)) > 100
    assert "essen:" in info
