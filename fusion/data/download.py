"""Fetching the public data distributions into the data folder.

``python -m fusion data download`` (see :func:`register`) downloads one entry of
:data:`DISTRIBUTIONS` into the data folder (:func:`fusion.paths.data_dir`, or ``--dest``):

* the file is streamed over http(s) into a temporary ``.part`` file next to its destination,
  with a progress bar, while its SHA-256 is computed;
* a known checksum (from the manifest or ``--sha256``) is verified; on a mismatch the partial
  file is deleted and :class:`ChecksumError` is raised;
* on success the file is renamed into place atomically and ``SHA256SUMS`` in the data folder
  records ``<hex>  <relative path>``; when no checksum is known the computed one is printed
  and reported as unverified;
* a file already in place with the expected checksum (or the one recorded in ``SHA256SUMS``)
  is not downloaded again;
* any network problem raises :class:`DownloadError`, saying where to put the file by hand
  instead. No partial file is ever left behind, not even on Ctrl-C.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import http.client
import os
import socket
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from fusion import paths

CHUNK_SIZE = 1 << 16
SUMS_FILE = "SHA256SUMS"
ALLOWED_SCHEMES = ("http", "https")
USER_AGENT = "FusionGAN-data-download/1.0 (+python urllib)"


class DownloadError(RuntimeError):
    """The file could not be fetched (offline, refused, HTTP error, bad URL, ...)."""


class ChecksumError(DownloadError):
    """The fetched file's SHA-256 differs from the expected one; nothing was kept."""


@dataclass(frozen=True)
class Distribution:
    """One public file that the project can fetch into the data folder."""

    name: str
    url: str
    path: str  # destination, relative to the data folder, POSIX separators
    sha256: str | None  # lower-case hex; None where not known yet (then reported unverified)
    description: str
    licence: str


DISTRIBUTIONS: dict[str, Distribution] = {
    "wjazzd-db": Distribution(
        name="wjazzd-db",
        url="https://jazzomat.hfm-weimar.de/download/downloads/wjazzd.db",
        path="wjazzd/wjazzd.db",
        # SHA-256 not recorded: it could not be obtained while this was written (no internet
        # access). Fill it in once known, e.g. from the "computed SHA-256" line that
        # `python -m fusion data download` prints, or from SHA256SUMS after a first download.
        sha256=None,
        description=(
            "Weimar Jazz Database (Jazzomat project), SQLite release: 456 transcribed jazz "
            "solos. Alternatively put the JazzTube CSV export under wjazzd/csv_melody/ "
            "together with wjazzd/solo_info.csv."
        ),
        licence="Open Data Commons Open Database License (ODbL) v1.0 -- Jazzomat Research Project, HfM Weimar",
    ),
}


# --------------------------------------------------------------------------------------------
# helpers


def _say(message: str) -> None:
    print(message, flush=True)


def _check_url(url: str) -> None:
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise DownloadError(
            f"refusing to download {url!r}: only http:// and https:// URLs are supported "
            f"(got scheme {scheme or 'none'!r})"
        )


def _normalise_sha(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ValueError(f"not a SHA-256 hex digest (64 hex digits): {value!r}")
    return value


def sha256_file(path: Path) -> str:
    """SHA-256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK_SIZE), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_sums(data_folder: Path) -> dict[str, str]:
    """``SHA256SUMS`` in ``data_folder`` as {relative path: hex digest}; empty when absent."""
    sums: dict[str, str] = {}
    try:
        text = (Path(data_folder) / SUMS_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return sums
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        digest, _, rel = line.partition(" ")
        rel = rel.strip().lstrip("*")  # "<hex>  path" or binary-mode "<hex> *path"
        if rel:
            sums[rel] = digest.lower()
    return sums


def _write_sums(data_folder: Path, rel: str, digest: str) -> None:
    sums = read_sums(data_folder)
    sums[rel] = digest
    text = "".join(f"{h}  {p}\n" for p, h in sorted(sums.items()))
    fd, tmp = tempfile.mkstemp(dir=data_folder, prefix=f".{SUMS_FILE}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, Path(data_folder) / SUMS_FILE)
    except BaseException:
        _unlink(Path(tmp))
        raise


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _manual_hint(target: Path, data_folder: Path) -> str:
    return (
        f"You can instead download it on another machine and place it by hand at {target} "
        f"(data folder {data_folder}; set FUSION_DATA or --dest to use another folder)."
    )


def _network_error(url: str, exc: BaseException, target: Path, data_folder: Path) -> DownloadError:
    if isinstance(exc, urllib.error.HTTPError):
        what = f"the server refused the request: HTTP {exc.code} {exc.reason}"
    else:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason, socket.gaierror):
            what = f"the host name could not be resolved ({reason}); this machine seems to be offline"
        elif isinstance(reason, ConnectionRefusedError):
            what = (f"the connection was refused ({reason}); this machine seems to be offline "
                    f"or the server is unreachable")
        elif isinstance(reason, (TimeoutError, socket.timeout)):
            what = f"the connection timed out ({reason}); this machine seems to be offline or the server is unreachable"
        else:
            what = (f"network error ({type(reason).__name__}: {reason}); this machine seems to be "
                    f"offline, or the server is unreachable or refused the connection")
    message = f"could not download {url}: {what}. {_manual_hint(target, data_folder)}"
    return DownloadError(" ".join(message.split()))  # always one line


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects, but only to http(s) URLs."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102
        if urllib.parse.urlsplit(newurl).scheme.lower() not in ALLOWED_SCHEMES:
            raise urllib.error.HTTPError(newurl, code, f"redirect to a non-http(s) URL refused: {newurl}",
                                         headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_HttpOnlyRedirects())


# --------------------------------------------------------------------------------------------
# download


def download(
    dist_or_url: Distribution | str,
    dest: Path | str,
    sha256: str | None = None,
    progress: bool = True,
    timeout: float = 30,
    *,
    relpath: str | None = None,
) -> Path:
    """Fetch a distribution (or a bare http(s) URL) into the data folder ``dest``.

    The file goes to ``dest / dist.path``; for a bare URL to ``dest / relpath``, by default the
    last component of the URL's path. ``sha256`` overrides the manifest's checksum. Returns the
    path of the file in place. Raises :class:`ChecksumError` on a checksum mismatch and
    :class:`DownloadError` on any network problem or a non-http(s) URL; on every failure (and on
    KeyboardInterrupt) the partial file is removed.
    """
    job = _plan(dist_or_url, dest, sha256, relpath)
    if _in_place(job):
        return job.target
    request = urllib.request.Request(job.url, headers={"User-Agent": USER_AGENT})
    have, received = _fetch_into_place(job, request, progress, timeout)
    _write_sums(job.data_folder, job.rel, have)
    if job.expected is not None:
        _say(f"{job.rel}: downloaded to {job.target} ({received} bytes), SHA-256 verified ({have})")
    else:
        _say(f"{job.rel}: downloaded to {job.target} ({received} bytes); computed SHA-256 {have} "
             f"could not be verified (no expected checksum known); recorded in {job.data_folder / SUMS_FILE}")
    return job.target


@dataclass(frozen=True)
class _Job:
    """One download: what to fetch, where it goes, what it must be."""

    url: str  # http(s)
    rel: str  # destination relative to the data folder, POSIX separators, never leaving it
    data_folder: Path
    target: Path  # data_folder / rel
    expected: str | None  # the SHA-256 to verify, lower-case hex; None where unknown
    label: str  # the progress bar's


def _plan(dist_or_url: Distribution | str, dest: Path | str, sha256: str | None, relpath: str | None) -> _Job:
    """Check the request (http(s) URL, a checksum's form, a destination inside the data folder)
    and resolve it into a :class:`_Job`; raises DownloadError or ValueError."""
    if isinstance(dist_or_url, Distribution):
        dist = dist_or_url
        url, rel, label = dist.url, relpath or dist.path, dist.name
        expected = _normalise_sha(sha256 if sha256 is not None else dist.sha256)
    else:
        url = str(dist_or_url)
        _check_url(url)
        rel = relpath or PurePosixPath(urllib.parse.unquote(urllib.parse.urlsplit(url).path)).name
        if not rel:
            raise DownloadError(f"cannot tell a file name from {url!r}; pass relpath")
        expected = _normalise_sha(sha256)
        label = PurePosixPath(rel).name
    _check_url(url)
    rel_posix = PurePosixPath(rel.replace("\\", "/"))
    if rel_posix.is_absolute() or ".." in rel_posix.parts:
        raise DownloadError(f"destination {rel!r} must be a relative path inside the data folder")
    data_folder = Path(dest).expanduser().resolve()
    return _Job(url, rel_posix.as_posix(), data_folder, data_folder.joinpath(*rel_posix.parts), expected, label)


def _in_place(job: _Job) -> bool:
    """Whether the right file is already in place (then ``SHA256SUMS`` is brought up to date and
    nothing is downloaded); says so, or why the file will be downloaded again."""
    rel, target = job.rel, job.target
    if not target.is_file():
        return False
    have = sha256_file(target)
    recorded = read_sums(job.data_folder).get(rel)
    if job.expected is not None and have == job.expected:
        _say(f"{rel}: already present at {target}, SHA-256 verified ({have}); skipping download")
        if recorded != have:
            _write_sums(job.data_folder, rel, have)
        return True
    if job.expected is None and recorded is not None and recorded == have:
        _say(f"{rel}: already present at {target}, matches {SUMS_FILE} ({have}); skipping download "
             f"(no published checksum to verify against)")
        return True
    _say(f"{rel}: {target} exists but its SHA-256 {have} "
         f"{'differs from the expected one' if job.expected else 'is not recorded'}; downloading again")
    return False


def _fetch_into_place(job: _Job, request: urllib.request.Request, progress: bool, timeout: float) -> tuple[str, int]:
    """Download into a ``.part`` file beside the target, verify it and rename it into place:
    ``(SHA-256, bytes)``. On any failure, and on KeyboardInterrupt, the partial file and the
    folders made for it are removed."""
    target = job.target
    created = [d for d in reversed(target.parents) if not d.exists()]  # outermost first
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, part_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    part = Path(part_name)
    try:
        have, received = _receive(job, request, fd, progress, timeout)
        if job.expected is not None and have != job.expected:
            raise ChecksumError(
                f"checksum mismatch for {job.url}: expected SHA-256 {job.expected}, got {have} "
                f"({received} bytes); the download was discarded"
            )
        os.replace(part, target)
    except BaseException:
        _discard(part, created)
        raise
    return have, received


def _receive(job: _Job, request: urllib.request.Request, fd: int, progress: bool, timeout: float) -> tuple[str, int]:
    """Stream the response into the open file ``fd``: ``(SHA-256, bytes)``. Network problems and
    a connection that ends early become :class:`DownloadError`; local ones (disk full,
    permissions) stay OSErrors."""
    try:
        have, received, total = _stream(request, fd, job.label, progress, timeout)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        # URLError/HTTPError: DNS failure, refused, HTTP status; OSError: timeouts and resets
        # while reading; HTTPException: broken responses; ValueError: malformed URL.
        if isinstance(exc, (urllib.error.URLError, http.client.HTTPException, ConnectionError,
                            TimeoutError, socket.timeout, socket.gaierror)):
            raise _network_error(job.url, exc, job.target, job.data_folder) from exc
        if isinstance(exc, ValueError):
            raise DownloadError(f"could not download {job.url}: {exc}") from exc
        raise  # local OSError (disk full, permissions): not a network problem
    if total is not None and received != total:
        raise DownloadError(
            f"could not download {job.url}: the connection ended after {received} of {total} "
            f"bytes; this machine may have gone offline or the server dropped the "
            f"connection. {_manual_hint(job.target, job.data_folder)}"
        )
    return have, received


def _stream(request: urllib.request.Request, fd: int, label: str, progress: bool,
            timeout: float) -> tuple[str, int, int | None]:
    """Copy the response into the open file ``fd`` (closed afterwards) under a progress bar:
    ``(SHA-256, bytes received, Content-Length or None)``."""
    digest = hashlib.sha256()
    received = 0
    with os.fdopen(fd, "wb") as out, _opener().open(request, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        from tqdm.auto import tqdm

        with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                  desc=label, disable=not progress, file=sys.stderr) as bar:
            for chunk in iter(lambda: response.read(CHUNK_SIZE), b""):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    return digest.hexdigest(), received, total


def _discard(part: Path, created: list[Path]) -> None:
    """Remove a partial file and the folders made for it (innermost first, while empty)."""
    _unlink(part)
    for folder in reversed(created):  # leave no empty folders behind either
        try:
            folder.rmdir()
        except OSError:
            break


# --------------------------------------------------------------------------------------------
# command line


def register(data_subparsers) -> argparse.ArgumentParser:
    """Add ``download`` to the ``python -m fusion data`` sub-parser group; returns its parser."""
    names = sorted(DISTRIBUTIONS)
    listing = "; ".join(f"{d.name}: {d.url} -> <data>/{d.path} [{d.licence}]" for d in DISTRIBUTIONS.values())
    parser = data_subparsers.add_parser(
        "download",
        help="fetch a public data distribution into the data folder",
        description=(
            "Download a public data distribution into the data folder, verify its SHA-256 and "
            f"record it in {SUMS_FILE}. Offline? Place the file by hand at the same path instead. "
            f"Known distributions: {listing}"
        ),
    )
    parser.add_argument("--name", default="wjazzd-db", choices=names, help="which distribution (default: wjazzd-db)")
    parser.add_argument("--url", default=None, help="download from this URL instead (e.g. a mirror)")
    parser.add_argument("--sha256", default=None, help="expected SHA-256 (overrides the manifest)")
    parser.add_argument("--dest", default=None, type=Path,
                        help="data folder (default: $FUSION_DATA, ../shared/data or ./data)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--timeout", type=float, default=30, help="network timeout in seconds (default: 30)")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``data download``: 0 on success, 1 (with a one-line message on stderr) on failure."""
    dist = DISTRIBUTIONS[getattr(args, "name", None) or "wjazzd-db"]
    url = getattr(args, "url", None)
    if url:
        dist = dataclasses.replace(dist, url=url)
    dest = getattr(args, "dest", None)
    dest = Path(dest) if dest is not None else paths.data_dir()
    try:
        download(dist, dest, sha256=getattr(args, "sha256", None),
                 progress=not getattr(args, "no_progress", False),
                 timeout=getattr(args, "timeout", 30) or 30)
    except (DownloadError, ValueError) as exc:
        print("error: " + " ".join(str(exc).split()), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: download interrupted; no partial file was kept", file=sys.stderr)
        return 130
    return 0


__all__ = ["ChecksumError", "DISTRIBUTIONS", "Distribution", "DownloadError", "download",
           "read_sums", "register", "run", "sha256_file"]
