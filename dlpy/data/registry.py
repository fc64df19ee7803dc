"""One registry of every data and weight file the course uses, and the one way to fetch them.

The registry itself is data: ``data/registry.toml`` (names, origins, hashes, sizes, licences, notes),
read once by :func:`read_registry`.

Files live in Keras's own cache (``$KERAS_HOME``, default ``~/.keras``) under the names Keras uses,
so the real Keras loaders (``keras.datasets...``, ``keras.applications...(weights="imagenet")``)
find them. :func:`fetch` checks the file's hash, downloads it atomically with
``keras.utils.get_file`` when it is missing, and without a network raises
:class:`DataNotAvailableError` naming the file, its URL, its hash and the folder to put it in.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import sys
import tarfile
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib



class DataNotAvailableError(FileNotFoundError):
    """A course file is not in the cache and could not be downloaded."""


class CorruptDataError(ValueError):
    """A cached or downloaded file is damaged: wrong size, wrong hash, empty, or an error page."""


@dataclass(frozen=True)
class DataFile:
    """One file the course reads (one ``[[file]]`` of ``data/registry.toml``, which documents the
    fields). ``file_hash`` is the hash Keras checks, ``sha256`` and ``size`` describe the copy the
    course was tested with; ``exact`` says whether the cache must hold exactly that copy (``False``
    where the origin serves another version, e.g. the original of a converted stand-in)."""

    name: str
    fname: str
    origin: str | None
    cache_subdir: str
    description: str
    license: str
    file_hash: str | None = None
    sha256: str | None = None
    size: int | None = None
    archive: bool = False
    exact: bool = True
    note: str = ""

    @property
    def path(self) -> Path:
        return keras_home() / self.cache_subdir / self.fname

    @property
    def extracted_path(self) -> Path:
        """Where an archive is unpacked: Keras's own convention, ``<stem>_extracted``, in the Keras
        cache, or in :func:`writable_cache` when the Keras cache is read-only and lacks it."""
        stem = self.fname
        for ext in (".tar.gz", ".tgz", ".tar", ".zip"):
            if stem.endswith(ext):
                stem = stem[: -len(ext)]
        shared = keras_home() / self.cache_subdir / f"{stem}_extracted"
        return shared if shared.is_dir() else writable_cache() / self.cache_subdir / shared.name


def keras_home() -> Path:
    """Keras's cache folder: ``$KERAS_HOME`` or ``~/.keras``. A clear error when it is a file."""
    home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()
    if home.exists() and not home.is_dir():
        raise ValueError(f"KERAS_HOME={home} is a file, not a folder: point KERAS_HOME at a folder "
                         "(export KERAS_HOME=~/.keras) or remove the file.")
    return home


def is_writable(folder: Path) -> bool:
    """Whether files can be created in ``folder`` (or, if it does not exist yet, be created there)."""
    folder = Path(folder)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return os.access(folder, os.W_OK | os.X_OK)


def writable_cache() -> Path:
    """Where dlpy keeps what it derives from the data (unpacked archives, encoded reviews, scikit-image
    samples), laid out like the Keras cache: the Keras cache itself when it is writable, else
    ``$XDG_CACHE_HOME/dlpy`` (``~/.cache/dlpy``), so a read-only cache shared by a class still works."""
    if is_writable(keras_home()):
        return keras_home()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "dlpy"


REGISTRY_FILE = Path(__file__).with_name("registry.toml")  # a link to data/registry.toml in the checkout


def read_registry(path: Path = REGISTRY_FILE) -> dict[str, DataFile]:
    """The registry file (``data/registry.toml``): ``{name: DataFile}`` in the file's order."""
    with open(path, "rb") as f:
        entries = tomllib.load(f)["file"]
    registry = {}
    for fields in entries:
        entry = DataFile(**{"origin": None, **fields})  # TOML has no null: no origin, no public URL
        if entry.name in registry:
            raise ValueError(f"{path}: the name {entry.name!r} is registered twice.")
        registry[entry.name] = entry
    return registry


REGISTRY: dict[str, DataFile] = read_registry()


def get_entry(name: str) -> DataFile:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"No data file named {name!r}. Registered files: {', '.join(sorted(REGISTRY))}") from None


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """The hex digest of a file (``sha256`` or ``md5``), read in 1 MiB blocks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


_VERIFIED: set[tuple] = set()  # (path, size, mtime) of files whose full hashes passed in this process


def file_problem(entry: DataFile, path: Path | None = None, full: bool = True) -> str | None:
    """What is wrong with ``path`` (default: the entry's place in the cache) as a copy of ``entry``,
    or ``None``: missing (or a dangling link), empty, an HTML page saved under the file's name, the
    wrong size, or (``full``) the wrong sha256 or Keras hash. Taught in chapter 01 (data files)."""
    path = Path(path) if path is not None else entry.path
    if not path.exists():
        return f"it is a link to a missing file ({os.readlink(path)})" if path.is_symlink() else "missing"
    stat = path.stat()
    if stat.st_size == 0:
        return "it is empty (0 bytes)"
    with open(path, "rb") as f:
        head = f.read(256).lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) and not entry.fname.endswith((".html", ".htm")):
        return "it is an HTML page (an error page saved under the file's name?), not the data"
    if entry.exact and entry.size and stat.st_size != entry.size:
        return f"it has {stat.st_size:,} bytes, expected {entry.size:,} (a truncated or different file)"
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if full and key not in _VERIFIED:
        if entry.exact and entry.sha256 and file_digest(path) != entry.sha256:
            return f"its sha256 is not the expected {entry.sha256}"
        if entry.file_hash:
            algorithm = "sha256" if len(entry.file_hash) == 64 else "md5"
            if file_digest(path, algorithm) != entry.file_hash:
                return f"it fails Keras's {algorithm} check (expected {entry.file_hash})"
        _VERIFIED.add(key)
    return None


def check(entry: DataFile) -> tuple[str, str | None]:
    """``(state, problem)``: ``present``, ``missing`` (or a dangling link) or ``corrupt``, and what
    :func:`file_problem` found."""
    problem = file_problem(entry)
    return ("present" if problem is None else "corrupt" if entry.path.exists() else "missing"), problem


def status(entry: DataFile) -> str:
    """``present``, ``missing`` or ``corrupt``: the state of :func:`check`."""
    return check(entry)[0]


def _fix_lines(entry: DataFile) -> list[str]:
    home = keras_home()
    lines = []
    if entry.origin:
        lines.append(f"  download it from: {entry.origin}")
    if entry.note:
        lines.append(f"  note: {entry.note}")
    if entry.file_hash:
        lines.append(f"  expected hash (Keras checks it): {entry.file_hash}")
    elif entry.sha256:
        lines.append(f"  sha256 of the copy the course was tested with: {entry.sha256}")
    lines.append(f"  and put it at: {entry.path}")
    if not is_writable(home):
        lines.append(f"  KERAS_HOME={home} is read-only (a cache shared by a class?): nothing can be saved there. "
                     f"Use a writable cache that links to it: export KERAS_HOME=~/.keras && dlpy data --link {home}")
    else:
        lines.append(f"  (the cache is $KERAS_HOME, now {home}; `dlpy data` lists every file, and "
                     "`dlpy data --link DIR` links an offline copy into the cache)")
    return lines


def missing_message(entry: DataFile, reason: str = "") -> str:
    """The error text for a file that is not there: what it is, where to get it, where to put it."""
    first = f"Data file {entry.fname!r} ({entry.description}) is not available{': ' + reason if reason else '.'}"
    return "\n".join([first, *_fix_lines(entry)])


def corrupt_message(entry: DataFile, path: Path, problem: str) -> str:
    """The error text for a damaged file: its path, what is wrong, and the commands that fix it."""
    return "\n".join([
        f"Data file {path} is damaged: {problem}.",
        f"  fix: delete it (rm '{path}') and load it again to download a fresh copy, or link an intact "
        "offline copy (dlpy data --link DIR); `dlpy data` checks every file.",
        *_fix_lines(entry),
    ])


CONNECT_TIMEOUT_S = 1.5  # seconds to look up and reach a download server before calling it offline
READ_TIMEOUT_S = 10  # seconds a download may stall


_REACHED: dict[tuple[str, int], str | None] = {}  # (host, port) -> why it cannot be reached, in this process


def origin_problem(origin: str) -> str | None:
    """Why ``origin`` cannot be downloaded from right now (no network, host down, no such file), or
    ``None``. The name lookup and the connection together take at most :data:`CONNECT_TIMEOUT_S`
    seconds (a thread that is left behind if it hangs), once per server and process, without
    importing Keras."""
    url = urlparse(origin)
    if url.scheme == "file":
        return None if Path(url.path).is_file() else f"{url.path} does not exist"
    if url.scheme not in ("http", "https") or not url.hostname:
        return f"cannot download from {origin!r}"
    server = (url.hostname, url.port or (443 if url.scheme == "https" else 80))
    if server not in _REACHED:
        answer = {}

        def connect():
            try:
                socket.create_connection(server, timeout=CONNECT_TIMEOUT_S).close()
                answer["problem"] = None
            except OSError as error:
                answer["problem"] = f"{type(error).__name__}: {error}"

        probe = threading.Thread(target=connect, daemon=True)
        probe.start()
        probe.join(CONNECT_TIMEOUT_S)
        problem = answer.get("problem", f"no answer within {CONNECT_TIMEOUT_S} s")
        host, port = server
        _REACHED[server] = None if problem is None else f"offline? {host}:{port} cannot be reached ({problem})"
    return _REACHED[server]


def fetch(name: str) -> Path:
    """Path of a registered file in the Keras cache, checked, downloading it first when missing.

    A cached file is checked on every call: its size and that it is not empty or an HTML page, and
    its sha256 and Keras hash once per process. A missing file is downloaded with
    ``keras.utils.get_file`` (which checks ``file_hash``) into a temporary folder beside the cache,
    checked the same way, and moved into place only then: a half or wrong file never lands. Without
    a network the error comes within seconds (the cache and the server are checked before Keras is
    imported) and names the file, its URL, its hash and the folder to put it in.
    """
    entry = get_entry(name)
    path = entry.path
    problem = file_problem(entry, path)
    if problem is None:
        return path
    if path.exists():
        raise CorruptDataError(corrupt_message(entry, path, problem))
    reason = f"{problem}, and " if path.is_symlink() else ""  # a dangling link says where it pointed
    if entry.origin is None:
        raise DataNotAvailableError(missing_message(entry, f"{reason}it has no public download URL"))
    if not is_writable(path.parent):
        raise DataNotAvailableError(missing_message(entry, f"{path.parent} is read-only, so it cannot be downloaded"))
    unreachable = origin_problem(entry.origin)
    if unreachable:
        raise DataNotAvailableError(missing_message(entry, unreachable))
    import keras

    path.parent.mkdir(parents=True, exist_ok=True)
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(READ_TIMEOUT_S)
    try:
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=".download-") as tmp:
            try:
                downloaded = keras.utils.get_file(
                    entry.fname, entry.origin, file_hash=entry.file_hash, cache_dir=tmp, cache_subdir="."
                )
            except Exception as error:  # HTTP error, a stalled server, hash mismatch after download
                raise DataNotAvailableError(
                    missing_message(entry, f"download failed ({type(error).__name__}: {error})")) from error
            problem = file_problem(entry, Path(downloaded))
            if problem:
                raise CorruptDataError(f"The download of {entry.fname} from {entry.origin} is damaged: {problem}. "
                                       f"Nothing was saved. Try again later, or put a good copy at {path}.")
            if path.is_symlink():
                path.unlink()  # a dangling link left by an earlier offline copy
            os.replace(downloaded, path)
    finally:
        socket.setdefaulttimeout(previous_timeout)
    return path


def keras_fallback_cache() -> Path:
    """Where ``keras.utils.get_file`` looks instead of a Keras cache it cannot write to: Keras's own
    documented fallback, ``/tmp/.keras``."""
    return Path("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()) / ".keras"


def show_to_keras(name: str, path: Path | None = None) -> Path:
    """:func:`fetch` a file for one of Keras's own loaders (``keras.datasets...load_data()``), and
    where the Keras cache is read-only (one cache shared by a class), link it into the folder Keras
    then reads instead (:func:`keras_fallback_cache`), so the loader finds it rather than trying to
    download it. ``path``: a copy to show instead of the cache's. Returns the checked file."""
    path = Path(path) if path is not None else fetch(name)
    if not is_writable(keras_home()):
        entry = get_entry(name)
        link = keras_fallback_cache() / entry.cache_subdir / entry.fname
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists() or link.resolve() != path.resolve():
            link.unlink(missing_ok=True)
            link.symlink_to(path.resolve())
    return path


def extract(name: str) -> Path:
    """Fetch an archive and unpack it once into ``<cache>/<stem>_extracted`` (atomically); return that
    folder. A read-only Keras cache without the unpacked folder unpacks into :func:`writable_cache`."""
    entry = get_entry(name)
    if not entry.archive:
        raise ValueError(f"{name!r} is not an archive: use fetch({name!r}) for a single file.")
    target = entry.extracted_path
    if target.is_dir():
        return target
    archive = fetch(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".extract-"))
    try:
        try:
            if zipfile.is_zipfile(archive):
                with zipfile.ZipFile(archive) as z:
                    z.extractall(tmp)
            else:
                with tarfile.open(archive) as t:
                    t.extractall(tmp, filter="data")
        except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as error:
            raise CorruptDataError(corrupt_message(entry, archive, f"it cannot be unpacked ({type(error).__name__}: "
                                                                   f"{error})")) from error
        try:
            os.replace(tmp, target)
        except OSError:
            if not target.is_dir():  # another process finished the same extraction first: fine
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def link_into_cache(entry: DataFile, source: Path) -> Path:
    """Make ``entry``'s place in the cache a link to ``source``: a dangling link there is replaced, a
    damaged file is renamed aside (``<name>.damaged``), never deleted. Returns the link."""
    path = entry.path
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink():
        path.unlink()
    elif path.exists():
        os.replace(path, path.with_name(f"{path.name}.damaged"))
    path.symlink_to(Path(source).resolve())
    return path


def link_cache(source: Path) -> list[Path]:
    """Link every registered file found under ``source`` (a folder laid out like the Keras cache,
    e.g. an offline copy) into the writable ``$KERAS_HOME``, where the cache lacks it or holds a damaged
    copy (see :func:`link_into_cache`). Returns the links made. A ``source`` that is no folder, or holds
    none of the course's files, is a ``ValueError`` that says what was expected."""
    source = Path(source).expanduser()
    if not source.is_dir():
        raise ValueError(f"No folder {source}: pass an offline copy laid out like the Keras cache "
                         "(DIR/datasets, DIR/models, DIR/images), e.g. dlpy data --link ../shared/keras-cache")
    source = source.resolve()
    home = keras_home()
    if not is_writable(home):
        raise ValueError(f"KERAS_HOME={home} is read-only: links cannot be made there. Point KERAS_HOME at a "
                         "writable folder first (export KERAS_HOME=~/.keras).")
    found, made = 0, []
    for entry in REGISTRY.values():
        src = source / entry.cache_subdir / entry.fname
        if not src.exists():
            continue
        found += 1
        if entry.path.exists() and (file_problem(entry) is None or file_problem(entry, src) is not None):
            continue  # the cache's copy is good, or a damaged one would be replaced by another damaged one
        made.append(link_into_cache(entry, src))
    if not found:
        example = next(iter(REGISTRY.values()))
        raise ValueError(f"{source} holds none of the course's files: expected a folder laid out like the Keras "
                         f"cache, e.g. {source / example.cache_subdir / example.fname}.")
    return made
