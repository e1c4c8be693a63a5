"""tests/helpers.py (shared with bench/): a free port, polling until a server answers, and the
app's process started, stopped, killed and started again, here with a stand-in ``app.py``."""
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests import helpers

FAKE_APP = '''
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path in ("/", "/survey") else 404)
        self.end_headers()

    def log_message(self, *args):
        pass

print("fake app starting", flush=True)
HTTPServer(("127.0.0.1", int(sys.argv[sys.argv.index("--port") + 1])), Handler).serve_forever()
'''


def test_free_port_can_be_bound():
    port = helpers.free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_wait_until_answers_returns_once_the_server_answers():
    class Ok(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        helpers.wait_until_answers(f"http://127.0.0.1:{server.server_address[1]}/", timeout=10, poll=0.05)
    finally:
        server.shutdown()
        server.server_close()


def test_an_exited_process_or_silence_is_a_clear_error(tmp_path):
    import subprocess

    log = tmp_path / "app.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-c", "print('no checkpoint here'); raise SystemExit(3)"],
                                stdout=out, stderr=out)
        proc.wait(timeout=30)
    url = f"http://127.0.0.1:{helpers.free_port()}/"
    with pytest.raises(helpers.AppDidNotStart, match="exited with status 3: no checkpoint here"):
        helpers.wait_until_answers(url, proc, timeout=10, log=log)
    with pytest.raises(helpers.AppDidNotStart, match="did not answer .* within 0 s: \\(no log\\)"):
        helpers.wait_until_answers(url, timeout=0.3, poll=0.05)


def test_app_starts_stops_is_killed_and_restarts_on_its_port(tmp_path, monkeypatch):
    (tmp_path / "app.py").write_text(FAKE_APP)
    monkeypatch.setattr(helpers, "ROOT", tmp_path)  # the stand-in instead of the real app.py
    app = helpers.App(env=helpers.QUIET_ENV, log=tmp_path / "app.log", answers="/survey", poll=0.05, timeout=60)
    assert app.start() > 0 and app.proc.poll() is None
    app.kill()
    assert app.proc.returncode == -9 and app.log is None
    port = app.port
    app.start()  # the same port again
    assert app.port == port and app.proc.poll() is None
    app.stop(timeout=20)
    assert app.proc.returncode is not None
    assert (tmp_path / "app.log").read_text().count("fake app starting") == 2
