"""fusion.data.download against a real HTTP server on 127.0.0.1 serving a fixture made here."""
from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import argparse  # noqa: E402
import hashlib  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import types  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent

from fusion.data import download as dl  # noqa: E402

FIXTURE = bytes((i * 7 + 3) % 256 for i in range(5000)) + b"fixture for test_download\n"
FIXTURE_SHA = hashlib.sha256(FIXTURE).hexdigest()
WRONG_SHA = "0" * 64


class _Server:
    """A tiny HTTP server: GET /fixture.bin, /missing (404), /short (truncated), /to-file (redirect)."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep the test output clean
                pass

            def do_GET(self):  # noqa: N802
                server.requests.append(self.path)
                if self.path.endswith("/fixture.bin"):
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(FIXTURE)))
                    self.end_headers()
                    self.wfile.write(FIXTURE)
                elif self.path == "/short":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(FIXTURE) + 1000))
                    self.end_headers()
                    self.wfile.write(FIXTURE[:100])
                    self.close_connection = True
                elif self.path == "/to-file":
                    self.send_response(302)
                    self.send_header("Location", "file:///etc/hostname")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self.send_error(404, "Not Found")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def gets(self, suffix: str) -> int:
        return sum(1 for p in self.requests if p.endswith(suffix))


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def server():
    srv = _Server()
    srv.thread.start()
    try:
        yield srv
    finally:
        srv.httpd.shutdown()
        srv.httpd.server_close()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".part")]


def _dist(url: str, sha256: str | None = None) -> dl.Distribution:
    return dl.Distribution(name="fixture", url=url, path="sub/dir/fixture.bin", sha256=sha256,
                           description="test fixture", licence="none")


# ------------------------------------------------------------------------------------------------


def test_manifest_has_wjazzd():
    dist = dl.DISTRIBUTIONS["wjazzd-db"]
    assert dist.name == "wjazzd-db"
    assert dist.url == "https://jazzomat.hfm-weimar.de/download/downloads/wjazzd.db"
    assert dist.path == "wjazzd/wjazzd.db"
    assert dist.sha256 is None
    assert dist.description and dist.licence
    with pytest.raises(dataclasses_frozen_error()):
        dist.url = "http://example.invalid/"  # type: ignore[misc]


def dataclasses_frozen_error():
    import dataclasses

    return dataclasses.FrozenInstanceError


def test_download_verified(server, tmp_path, capsys):
    path = dl.download(server.url("/files/fixture.bin"), tmp_path, sha256=FIXTURE_SHA.upper(), progress=False)
    assert path == tmp_path / "fixture.bin"
    assert path.read_bytes() == FIXTURE
    assert (tmp_path / "SHA256SUMS").read_text() == f"{FIXTURE_SHA}  fixture.bin\n"
    assert dl.read_sums(tmp_path) == {"fixture.bin": FIXTURE_SHA}
    assert "verified" in capsys.readouterr().out
    assert not _leftovers(tmp_path)


def test_distribution_unverified_then_skipped_via_sums(server, tmp_path, capsys):
    dist = _dist(server.url("/fixture.bin"))
    path = dl.download(dist, tmp_path, progress=True)
    assert path == tmp_path / "sub" / "dir" / "fixture.bin"
    assert path.read_bytes() == FIXTURE
    out = capsys.readouterr().out
    assert FIXTURE_SHA in out and "could not be verified" in out
    assert f"{FIXTURE_SHA}  sub/dir/fixture.bin" in (tmp_path / "SHA256SUMS").read_text()

    # No published checksum, but SHA256SUMS recorded it: not fetched again.
    dl.download(dist, tmp_path, progress=False)
    assert server.gets("/fixture.bin") == 1
    assert "already present" in capsys.readouterr().out


def test_sums_file_updated_not_overwritten(server, tmp_path):
    (tmp_path / "SHA256SUMS").write_text(f"{'a' * 64}  other/file.txt\n")
    dl.download(_dist(server.url("/fixture.bin"), FIXTURE_SHA), tmp_path, progress=False)
    assert dl.read_sums(tmp_path) == {"other/file.txt": "a" * 64, "sub/dir/fixture.bin": FIXTURE_SHA}


def test_wrong_checksum_leaves_nothing(server, tmp_path):
    with pytest.raises(dl.ChecksumError) as info:
        dl.download(server.url("/fixture.bin"), tmp_path, sha256=WRONG_SHA, progress=False)
    message = str(info.value)
    assert WRONG_SHA in message and FIXTURE_SHA in message
    assert not (tmp_path / "fixture.bin").exists()
    assert not _leftovers(tmp_path)
    assert not (tmp_path / "SHA256SUMS").exists()


def test_manifest_checksum_used_and_overridable(server, tmp_path):
    with pytest.raises(dl.ChecksumError):
        dl.download(_dist(server.url("/fixture.bin"), WRONG_SHA), tmp_path, progress=False)
    path = dl.download(_dist(server.url("/fixture.bin"), WRONG_SHA), tmp_path, sha256=FIXTURE_SHA, progress=False)
    assert path.read_bytes() == FIXTURE


def test_http_404(server, tmp_path):
    url = server.url("/missing.db")
    with pytest.raises(dl.DownloadError) as info:
        dl.download(url, tmp_path, progress=False)
    message = str(info.value)
    assert url in message and "404" in message and "refused" in message
    assert "by hand" in message and str(tmp_path / "missing.db") in message
    assert "\n" not in message
    assert not (tmp_path / "missing.db").exists()
    assert not _leftovers(tmp_path)


def test_offline_closed_port(closed_port, tmp_path):
    url = f"http://127.0.0.1:{closed_port}/wjazzd.db"
    with pytest.raises(dl.DownloadError) as info:
        dl.download(_dist(url), tmp_path, progress=False, timeout=5)
    message = str(info.value)
    assert url in message
    assert "offline" in message and "unreachable" in message
    assert "by hand" in message and str(tmp_path / "sub" / "dir" / "fixture.bin") in message
    assert not _leftovers(tmp_path)
    assert list(tmp_path.iterdir()) == []  # not even the folders it would have created


def test_dns_failure_is_download_error(tmp_path):
    # .invalid never resolves (RFC 2606); no packet leaves the machine beyond the resolver.
    with pytest.raises(dl.DownloadError) as info:
        dl.download("http://fusion-test.invalid/x.db", tmp_path, progress=False, timeout=5)
    assert "offline" in str(info.value) and "by hand" in str(info.value)
    assert not _leftovers(tmp_path)


def test_truncated_response(server, tmp_path):
    with pytest.raises(dl.DownloadError) as info:
        dl.download(server.url("/short"), tmp_path, relpath="short.bin", progress=False)
    assert "by hand" in str(info.value)
    assert not (tmp_path / "short.bin").exists()
    assert not _leftovers(tmp_path)


def test_already_present_is_skipped(server, tmp_path, capsys):
    url = server.url("/fixture.bin")
    first = dl.download(url, tmp_path, sha256=FIXTURE_SHA, progress=False)
    mtime = first.stat().st_mtime_ns
    assert server.gets("/fixture.bin") == 1
    second = dl.download(url, tmp_path, sha256=FIXTURE_SHA, progress=False)
    assert second == first
    assert server.gets("/fixture.bin") == 1  # no second GET
    assert first.stat().st_mtime_ns == mtime
    assert "already present" in capsys.readouterr().out


def test_present_with_wrong_content_is_replaced(server, tmp_path):
    (tmp_path / "fixture.bin").write_bytes(b"stale")
    path = dl.download(server.url("/fixture.bin"), tmp_path, sha256=FIXTURE_SHA, progress=False)
    assert path.read_bytes() == FIXTURE
    assert server.gets("/fixture.bin") == 1


def test_keyboard_interrupt_leaves_nothing(server, tmp_path, monkeypatch):
    class Boom:
        def update(self, chunk):
            raise KeyboardInterrupt

    monkeypatch.setattr(dl, "hashlib", types.SimpleNamespace(sha256=Boom))
    with pytest.raises(KeyboardInterrupt):
        dl.download(server.url("/fixture.bin"), tmp_path, progress=False)
    assert not (tmp_path / "fixture.bin").exists()
    assert not _leftovers(tmp_path)


@pytest.mark.parametrize("url", ["file:///etc/hostname", "ftp://127.0.0.1/x.db", "/etc/hostname", "data:,hello"])
def test_non_http_url_rejected(url, tmp_path):
    with pytest.raises(dl.DownloadError) as info:
        dl.download(url, tmp_path, relpath="x.db", progress=False)
    assert "http" in str(info.value)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(dl.DownloadError):
        dl.download(_dist(url), tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_redirect_to_file_url_refused(server, tmp_path):
    with pytest.raises(dl.DownloadError):
        dl.download(server.url("/to-file"), tmp_path, relpath="x.db", progress=False)
    assert not (tmp_path / "x.db").exists()
    assert not _leftovers(tmp_path)


def test_relpath_must_stay_inside(tmp_path):
    with pytest.raises(dl.DownloadError):
        dl.download("http://127.0.0.1:9/x", tmp_path, relpath="../escape.db", progress=False)


# ------------------------------------------------------------------------------------------------
# command line


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="fusion")
    sub = parser.add_subparsers(dest="command", required=True)
    dl.register(sub)
    return parser.parse_args(argv)


def test_cli_defaults():
    args = _parse(["download"])
    assert args.name == "wjazzd-db" and args.url is None and args.sha256 is None
    assert args.dest is None and args.no_progress is False and args.func is dl.run
    with pytest.raises(SystemExit):
        _parse(["download", "--name", "no-such-dataset"])


def test_cli_run_success_and_offline(server, closed_port, tmp_path, capsys):
    args = _parse(["download", "--url", server.url("/wjazzd.db/fixture.bin"), "--sha256", FIXTURE_SHA,
                   "--dest", str(tmp_path), "--no-progress"])
    assert args.func(args) == 0
    target = tmp_path / "wjazzd" / "wjazzd.db"  # the manifest's path, fetched from the --url mirror
    assert target.read_bytes() == FIXTURE
    assert dl.read_sums(tmp_path) == {"wjazzd/wjazzd.db": FIXTURE_SHA}
    capsys.readouterr()

    args = _parse(["download", "--url", f"http://127.0.0.1:{closed_port}/wjazzd.db",
                   "--dest", str(tmp_path / "other"), "--no-progress"])
    assert args.func(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "offline" in err and "by hand" in err

    args = _parse(["download", "--url", server.url("/fixture.bin"), "--sha256", WRONG_SHA,
                   "--dest", str(tmp_path / "third"), "--no-progress"])
    assert args.func(args) == 1
    err = capsys.readouterr().err
    assert "checksum mismatch" in err and err.count("\n") == 1
    assert not _leftovers(tmp_path)


def test_cli_default_dest_is_data_dir(server, tmp_path, monkeypatch):
    monkeypatch.setenv("FUSION_DATA", str(tmp_path / "data"))
    args = _parse(["download", "--url", server.url("/fixture.bin"), "--no-progress"])
    assert args.func(args) == 0
    assert (tmp_path / "data" / "wjazzd" / "wjazzd.db").read_bytes() == FIXTURE


def _cli_available() -> str | None:
    if not (PROJECT_ROOT / "fusion" / "cli.py").exists():
        return "fusion/cli.py does not exist"
    try:
        from fusion import cli

        cli.build_parser()
    except (ImportError, AttributeError) as exc:  # another module of the CLI is not there yet
        return f"fusion.cli not usable yet: {exc}"
    return None


@pytest.mark.slow  # two `python -m fusion` processes, each importing the whole CLI
def test_cli_subprocess(server, closed_port, tmp_path):
    reason = _cli_available()
    if reason:
        pytest.skip(reason)
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update(no_proxy="127.0.0.1,localhost", NO_PROXY="127.0.0.1,localhost", FUSION_DATA=str(tmp_path / "unused"))
    base = [sys.executable, "-m", "fusion", "data", "download"]

    ok = subprocess.run(base + ["--url", server.url("/fixture.bin"), "--sha256", FIXTURE_SHA,
                                "--dest", str(tmp_path), "--no-progress"],
                        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "wjazzd" / "wjazzd.db").read_bytes() == FIXTURE
    assert not (tmp_path / "unused").exists()

    bad = subprocess.run(base + ["--url", f"http://127.0.0.1:{closed_port}/wjazzd.db",
                                 "--dest", str(tmp_path / "offline"), "--no-progress"],
                         cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "offline" in lines[0]
