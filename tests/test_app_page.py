"""The demo page as musicians meet it, in Debian's Chromium: a refused request leaves the page as it
was and a run never leaves stale or errored outputs; one log line per refused request; honest first
runs; links and the session zip; phones. (The API endpoints themselves: tests/test_app.py.)"""
import csv
import json
import shutil
import time
import urllib.request
import zipfile
from urllib.parse import parse_qsl, urlparse

import pytest

from tests.helpers import App, AppDidNotStart, QUIET_ENV
from tests.test_app import ARTIFACTS, SETTINGS, browser  # noqa: F401  (browser: the shared Chromium fixture)

pytestmark = [pytest.mark.slow, pytest.mark.data, pytest.mark.browser]
DESKTOP = dict(viewport={"width": 1280, "height": 900})
PHONE = dict(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2)
OUTPUTS = ("#audio", "#midi", "#roll", "#hist", "#verdict", "#provenance", "#batch_file")


def _start(tmp_path_factory, **env) -> App:
    app = App(env={**QUIET_ENV, "FUSION_SURVEY_DIR": str(tmp_path_factory.mktemp("survey")), **env},
              log=tmp_path_factory.mktemp("app") / "app.log", timeout=180)
    try:
        app.start()
    except AppDidNotStart as exc:
        pytest.fail(str(exc))
    return app


def _health(url: str) -> dict:
    with urllib.request.urlopen(url + "/healthz", timeout=10) as r:
        return json.load(r)


def _wait_loaded(url: str, timeout: float = 600) -> None:
    deadline = time.time() + timeout
    while _health(url)["loading"]:
        assert time.time() < deadline, "the real data did not load in time"
        time.sleep(1)


@pytest.fixture(scope="module")
def app(jazz_melodies, kern_parsed, tmp_path_factory):
    """The app as `python app.py --port P` with its log in a file (corpora already in the cache)."""
    app = _start(tmp_path_factory)
    _wait_loaded(app.url)
    yield app
    app.stop(timeout=20)


def _page(browser, requests=None, **context):  # noqa: F811
    ctx = browser.new_context(**{**DESKTOP, **context})
    page = ctx.new_page()
    if requests is not None:
        page.on("request", lambda r: requests.append(r.url))
    return page


def _offline(requests):
    outside = [u for u in requests if not u.startswith(("http://127.0.0.1", "data:", "blob:"))]
    assert not outside, outside


def _error_badges(page) -> dict:
    """The outputs that show Gradio's red "Error" badge."""
    return {sel: page.locator(sel).inner_text() for sel in OUTPUTS
            if page.locator(sel).count() and "Error" in page.locator(sel).inner_text()}


def _link(page) -> str:
    return page.input_value("#link textarea, #link input")


def _generate(page, timeout=60000):
    """Press Generate and wait for the whole run: the outputs, then the new melody's link (every
    melody a test makes on one page has its own link)."""
    before = page.inner_text("#provenance"), _link(page)
    page.click("#generate")
    page.wait_for_function("b => { const p = document.querySelector('#provenance').innerText;"
                           " return p.includes('seed') && p !== b; }", arg=before[0], timeout=timeout)
    page.wait_for_selector("#midi a[href]", timeout=timeout)
    page.wait_for_function("b => { const v = document.querySelector('#link textarea, #link input').value;"
                           " return v.startsWith('http') && v !== b; }", arg=before[1], timeout=timeout)


def _audio(page) -> str | None:
    """The address of the audio the player holds (its download link), None when it is empty."""
    link = page.locator("#audio a[data-testid='download-link'][href]")
    return link.get_attribute("href") if link.count() else None


def _set_number(page, elem_id: str, value) -> None:
    box = page.locator(f"#{elem_id} input[type=number]").first
    box.fill(str(value))
    box.press("Enter")


def _hist_title(page) -> str:
    page.wait_for_selector("#hist .gtitle", timeout=30000)
    return page.locator("#hist .gtitle").text_content()


def _bytes(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


# 1. stale outputs ------------------------------------------------------------------------------------
def test_a_refused_continue_leaves_the_page_and_runs_leave_no_stale_output(app, browser):  # noqa: F811
    requests = []
    page = _page(browser, requests)
    page.goto(app.url + "/")
    _generate(page)
    kept = {sel: page.inner_text(sel) for sel in ("#provenance", "#verdict")}
    audio_src = _audio(page)
    page.get_by_text("Continue a melody").click()
    page.click("#continue")  # nothing uploaded, no excerpt chosen
    page.wait_for_selector(".toast-body", timeout=20000)
    assert "upload a MIDI file or choose a real excerpt" in page.inner_text(".toast-body")
    time.sleep(1)
    assert _error_badges(page) == {}
    assert {sel: page.inner_text(sel) for sel in kept} == kept
    assert _audio(page) == audio_src
    assert page.locator("#roll .main-svg").count() >= 1 and page.locator("#midi a[href]").count() == 1

    page.get_by_text("A batch of melodies").click()
    k = page.locator("#k input[type=number]").input_value()  # the page's default batch size
    page.click("#batch")
    page.wait_for_function("k => document.querySelector('#provenance').innerText.includes(k + ' melodies')",
                           arg=k, timeout=120000)
    page.wait_for_selector("#batch_file a[href]", timeout=30000)
    time.sleep(1)
    assert _error_badges(page) == {}
    assert f"these {k} melodies" in _hist_title(page) and f"batch of {k}" in page.inner_text("#verdict")
    assert _audio(page) is None  # the last single melody is no longer shown
    assert page.locator("#midi a[href]").count() == 0 and page.locator("#roll .main-svg").count() == 0
    assert _link(page) == "" and urlparse(page.url).query == ""
    _shot(page, "stale-after-batch")

    _generate(page)
    assert _error_badges(page) == {}
    assert page.locator("#batch_file a[href]").count() == 0  # the batch is no longer shown
    assert "this melody" in _hist_title(page) and _audio(page) not in (None, audio_src)
    _offline(requests)
    page.context.close()


# 2. log lines, not tracebacks ---------------------------------------------------------------------------
def test_ordinary_input_errors_are_one_log_line_each(app, tmp_path):
    import httpx
    import pretty_midi
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    client = Client(app.url + "/", verbose=False)
    start = app.log_path.stat().st_size
    with pytest.raises(AppError):
        client.predict("fusion", 0.0, 500, 120, 1.0, 1, False, "Alto Sax", api_name="/generate")
    drums = pretty_midi.PrettyMIDI()
    kit = pretty_midi.Instrument(program=0, is_drum=True)
    kit.notes.append(pretty_midi.Note(velocity=100, pitch=36, start=0, end=0.5))
    drums.instruments.append(kit)
    drums.write(str(tmp_path / "drums.mid"))
    cases = {"empty.mid": b"", "text.mid": b"hello, I am not MIDI",
             "broken.mid": b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\xff\xff",
             "drums.mid": (tmp_path / "drums.mid").read_bytes()}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(AppError):
            client.predict(*SETTINGS, handle_file(str(tmp_path / name)), "none", api_name="/continue_melody")
    r = httpx.post(app.url + "/gradio_api/upload", files={"files": ("big.mid", b"MThd" + b"\0" * 2_000_000)})
    assert r.status_code == 413
    time.sleep(1)
    log = app.log_path.read_text(errors="replace")[start:]
    lines = [line for line in log.splitlines() if "fusiongan.app" in line]
    assert "Traceback" not in log, log
    assert len(lines) == 1 + len(cases) + 1, log  # one line per refusal, nothing else
    assert "refused generate: Value 500 is greater than maximum" in lines[0]
    assert all("refused continue_melody:" in line for line in lines[1:5]) and "only drum notes" in lines[4]
    assert "refused upload: " in lines[5] and "over the upload limit" in lines[5]


# 4. shareable settings ------------------------------------------------------------------------------------
LINK = "?system=blend&fusion=-0.25&bars=4&tempo=100&temperature=0.9&seed=4242&instrument=Flute"


def _controls(page) -> dict:
    def number(elem_id):
        return page.locator(f"#{elem_id} input[type=number]").first.input_value()
    return {"system": page.locator("#system input").input_value(), "fusion": number("fusion"), "bars": number("bars"),
            "seed": number("seed"), "randomize": page.locator("#randomize input").is_checked()}


def test_a_link_sets_the_controls_and_makes_the_same_melody_again(app, browser):  # noqa: F811
    requests = []
    page = _page(browser, requests)
    page.goto(app.url + "/" + LINK)
    page.wait_for_selector("#link_note", state="visible", timeout=30000)
    assert "Settings from the link" in page.inner_text("#link_note")
    assert _controls(page) == {"system": "Blend (fuses within each melody)", "fusion": "-0.25", "bars": "4",
                               "seed": "4242", "randomize": False}
    _generate(page)
    assert "seed **4242**".replace("**", "") in page.inner_text("#provenance")
    assert dict(parse_qsl(urlparse(page.url).query)) == dict(parse_qsl(LINK[1:]))  # the URL bar: this melody
    first = _bytes(page.locator("#midi a[href]").get_attribute("href"))
    _shot(page, "link-desktop")

    again = _page(browser, requests)
    again.goto(page.url)
    again.wait_for_selector("#link_note", state="visible", timeout=30000)
    _generate(again)
    assert _bytes(again.locator("#midi a[href]").get_attribute("href")) == first
    again.context.close()

    bad = _page(browser, requests)
    bad.goto(app.url + "/?bars=500&system=polka&seed=7")
    bad.wait_for_selector("#link_note", state="visible", timeout=30000)
    note = bad.inner_text("#link_note")
    assert "bars=500" in note and "system=polka" in note and "seed 7" in note
    assert _controls(bad)["bars"] == "8" and _controls(bad)["seed"] == "7"  # the rest of the link still applies
    bad.context.close()
    _offline(requests)
    page.context.close()


def test_copy_link_and_the_session_zip(app, browser, tmp_path):  # noqa: F811
    requests = []
    page = _page(browser, requests)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(app.url + "/")
    page.wait_for_selector("#generate")
    page.click("#copy_link")  # nothing made yet
    page.wait_for_function("() => document.querySelector('#copy_note').innerText.includes('Generate a melody first')")
    _set_number(page, "bars", 2)
    seeds = []
    for _ in range(3):  # "new seed each time" is on: the link has the seed as used
        _generate(page)
        seeds.append(int(page.locator("#seed input[type=number]").input_value()))
        link = _link(page)
        assert dict(parse_qsl(urlparse(link).query))["seed"] == str(seeds[-1]) and link == page.url
    page.click("#copy_link")
    page.wait_for_function("() => document.querySelector('#copy_note').innerText.includes('Link copied')")
    assert page.evaluate("navigator.clipboard.readText()") == link
    page.click("#session")
    page.wait_for_selector("#session_file a[href]", timeout=120000)
    path = tmp_path / "session.zip"
    path.write_bytes(_bytes(page.locator("#session_file a[href]").get_attribute("href")))
    with zipfile.ZipFile(path) as z:
        records = [json.loads(z.read(n)) for n in sorted(z.namelist()) if n.endswith("settings.json")]
        assert [r["seed"] for r in records] == seeds and all(r["bars"] == 2 for r in records)
        assert sum(n.endswith(".mid") for n in z.namelist()) == 3 == sum(n.endswith(".wav") for n in z.namelist())
        assert records[-1]["link"] == "?" + urlparse(link).query and "README.txt" in z.namelist()
    page.context.close()

    blocked = _page(browser, requests)  # no clipboard permission: the link is in the box, and the note says so
    blocked.goto(app.url + "/")
    _generate(blocked)
    blocked.evaluate("() => { Object.defineProperty(navigator, 'clipboard', {value: {writeText: () => "
                     "Promise.reject(new Error('denied'))}}); }")
    blocked.click("#copy_link")
    blocked.wait_for_function("() => document.querySelector('#copy_note').innerText.includes('select the link')")
    assert _link(blocked).startswith(app.url + "/?system=")
    blocked.context.close()
    _offline(requests)


# 5. phones ------------------------------------------------------------------------------------------------
OVERLAPS = """
(sel) => {
  const root = document.querySelector(sel);
  const svg = root.querySelector('.main-svg').getBoundingClientRect();
  const label = root.querySelector('[data-testid="block-label"]');
  const nodes = [...root.querySelectorAll('.gtitle, .g-xtitle text, .g-x2title text, .g-ytitle text, ' +
      '.g-y2title text, .legendtext, .xtick text, .x2tick text, .ytick text, .y2tick text, .annotation-text')];
  if (label) nodes.push(label);
  const boxes = nodes.map(n => [n.textContent.trim(), n.getBoundingClientRect()])
                     .filter(([t, r]) => t && r.width > 0 && r.height > 0);
  const clash = [];
  for (let i = 0; i < boxes.length; i++) {
    const [t, a] = boxes[i];
    if (a.left < svg.left - 1 || a.right > svg.right + 1 || a.top < svg.top - 1 || a.bottom > svg.bottom + 1)
      if (boxes[i][0] !== (label && label.textContent.trim())) clash.push(['outside', t]);
    for (let j = i + 1; j < boxes.length; j++) {
      const [u, b] = boxes[j];
      if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
        clash.push([t, u]);
    }
  }
  return {count: boxes.length, clash};
}
"""


def _no_overlaps(page, sel: str) -> None:
    page.wait_for_selector(f"{sel} .main-svg", timeout=30000)
    found = page.evaluate(OVERLAPS, sel)
    assert found["count"] >= 8 and found["clash"] == [], (sel, found)


def test_on_a_phone_the_result_is_shown_the_plots_are_legible_and_every_tab_is_reachable(app, browser):  # noqa: F811
    requests = []
    page = _page(browser, requests, **PHONE)
    page.goto(app.url + "/?system=rm&seed=5&bars=8")
    page.wait_for_selector("#link_note", state="visible", timeout=30000)
    page.locator("#generate").scroll_into_view_if_needed()
    _generate(page)
    page.wait_for_timeout(500)
    box = page.locator("#audio").bounding_box()
    assert 0 <= box["y"] < 844 - 60, box  # the player is on screen after Generate
    _no_overlaps(page, "#roll")
    _no_overlaps(page, "#hist")
    page.screenshot(path=str(ARTIFACTS / "phone-after-generate.png"))
    _shot(page, "phone-full")
    for tab, shows in (("Evaluation", "#evaluation, .prose"), ("Listening test", "text=The listening test"),
                       ("Data", "#status"), ("Demo", "#generate")):
        button = page.get_by_role("tab", name=tab)
        assert button.is_visible(), f"the {tab} tab is hidden on a phone"
        button.click()
        page.wait_for_selector(shows, state="visible", timeout=10000)
    page.get_by_role("tab", name="Data").click()
    _shot(page, "phone-data-tab")
    page.context.close()

    desk = _page(browser, requests)  # the RM system's extreme pitches, on a desktop
    desk.goto(app.url + "/?system=rm&seed=5&bars=16")
    desk.wait_for_selector("#link_note", state="visible", timeout=30000)
    _generate(desk)
    _no_overlaps(desk, "#roll")
    _no_overlaps(desk, "#hist")
    _shot(desk, "desktop-rm")
    desk.context.close()
    _offline(requests)


# 3. first run honesty -----------------------------------------------------------------------------------------
def _small_data(src, dst, solos=120, folders=("europa/schweiz", "europa/nederlan", "europa/elsass",
                                               "europa/lothring", "europa/oesterrh", "europa/jugoslav",
                                               "europa/magyar", "europa/czech", "europa/rossiya", "europa/misc",
                                               "europa/romania", "europa/polska", "europa/deutschl/ballad")):
    """A smaller copy of the real data (a few minutes of a first run become about half a minute):
    the first ``solos`` WJazzD solos and a few Essen folders."""
    (dst / "wjazzd" / "csv_melody").mkdir(parents=True)
    with open(src / "wjazzd" / "solo_info.csv", newline="") as f:
        rows = list(csv.reader(f))
    with open(dst / "wjazzd" / "solo_info.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows[:1 + solos])
    column = rows[0].index("melody_csv")
    for row in rows[1:1 + solos]:
        shutil.copy(src / "wjazzd" / "csv_melody" / row[column], dst / "wjazzd" / "csv_melody" / row[column])
    for folder in folders:
        shutil.copytree(src / "essen" / folder, dst / "essen" / folder)


def test_a_first_run_says_what_is_loading_and_what_waits(wjazzd_dir, browser, tmp_path_factory):  # noqa: F811
    data, cache = tmp_path_factory.mktemp("data"), tmp_path_factory.mktemp("cache")  # nothing parsed yet
    _small_data(wjazzd_dir.parent, data)
    app = _start(tmp_path_factory, FUSION_DATA=str(data), FUSION_CACHE=str(cache))
    requests = []
    try:
        page = _page(browser, requests)
        page.goto(app.url + "/")
        page.wait_for_selector("#loading", state="visible", timeout=30000)
        deadline = time.time() + 60
        banner = page.inner_text("#loading")
        while "reading now" not in banner:  # the banner follows the loading (every 2 s): wait for a corpus
            assert not _health(app.url)["data_ready"], "the data loaded before the page could show it: use more data"
            assert time.time() < deadline, f"no corpus is being read: {banner}"
            time.sleep(0.3)
            banner = page.inner_text("#loading")
        assert "Loading in the background" in banner and "real excerpts" in banner
        assert page.locator("#system").is_visible()
        page.get_by_text("Continue a melody").click()
        radios = page.locator("input[type=radio][value=jazz]")
        assert radios.is_disabled() and "available once the real data has loaded" in page.inner_text("body")
        _shot(page, "first-run-loading")
        page.click("#generate")  # the generators work now; the histogram says what it lacks
        page.wait_for_selector("#hist .gtitle", timeout=60000)
        if not _health(app.url)["data_ready"]:  # not read after the histogram, so not before it either
            assert "no real jazz or folk lines" in _hist_title(page)
        _wait_loaded(app.url)
        page.wait_for_selector("#loading", state="hidden", timeout=30000)  # the page notices by itself
        assert radios.is_enabled()
        radios.check()
        page.click("#continue")
        page.wait_for_function("() => document.querySelector('#provenance').innerText.includes('Continues 4 bars')",
                               timeout=60000)
        assert "real jazz" in " ".join(page.locator("#hist .legendtext").all_text_contents())
        _shot(page, "first-run-ready")
        page.context.close()
        _offline(requests)
    finally:
        app.stop(timeout=20)
    assert any(cache.glob("folk-kern-*.pkl"))  # it really parsed: the cache it was given is filled
