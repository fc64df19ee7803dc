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
import zipfile
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DOWNLOAD_TIMEOUT_S = 20


class DataNotAvailableError(FileNotFoundError):
    """A course file is not in the cache and could not be downloaded."""


class CorruptDataError(ValueError):
    """A cached file does not match its published hash."""


@dataclass(frozen=True)
class DataFile:
    """One file the course reads. ``file_hash`` is the hash Keras checks (sha256 or md5); ``None``
    where Keras checks none. ``sha256`` is the hash of the copy this course was tested with."""

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
    note: str = ""

    @property
    def path(self) -> Path:
        return keras_home() / self.cache_subdir / self.fname

    @property
    def extracted_path(self) -> Path:
        """Where an archive is unpacked: Keras's own convention, ``<stem>_extracted``."""
        stem = self.fname
        for ext in (".tar.gz", ".tgz", ".tar", ".zip"):
            if stem.endswith(ext):
                stem = stem[: -len(ext)]
        return keras_home() / self.cache_subdir / f"{stem}_extracted"


def keras_home() -> Path:
    """Keras's cache folder: ``$KERAS_HOME`` or ``~/.keras``."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()


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


def _hash_matches(path: Path, expected: str) -> bool:
    algorithm = hashlib.sha256() if len(expected) == 64 else hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            algorithm.update(block)
    return algorithm.hexdigest() == expected


def status(entry: DataFile) -> str:
    """``present``, ``missing`` or ``corrupt`` (Keras's hash check fails)."""
    if not entry.path.exists():
        return "missing"
    if entry.file_hash and not _hash_matches(entry.path, entry.file_hash):
        return "corrupt"
    return "present"


def missing_message(entry: DataFile, reason: str = "") -> str:
    lines = [f"Data file {entry.fname!r} ({entry.description}) is not available{': ' + reason if reason else '.'}"]
    if entry.origin:
        lines.append(f"  download it from: {entry.origin}")
    if entry.note:
        lines.append(f"  note: {entry.note}")
    if entry.file_hash:
        lines.append(f"  expected hash (Keras checks it): {entry.file_hash}")
    elif entry.sha256:
        lines.append(f"  sha256 of the copy the course was tested with: {entry.sha256}")
    lines.append(f"  and put it at: {entry.path}")
    lines.append(f"  (the cache is $KERAS_HOME, now {keras_home()}; `dlpy data` lists every file, and "
                 "`dlpy data --link DIR` links an offline copy into the cache)")
    return "\n".join(lines)


def fetch(name: str) -> Path:
    """Path of a registered file in the Keras cache, downloading it first when missing.

    The download goes through ``keras.utils.get_file`` (which checks ``file_hash``) into a temporary
    folder beside the cache and is moved into place only when complete, so a half file is never left.
    """
    entry = get_entry(name)
    path = entry.path
    if path.exists():
        if entry.file_hash and not _hash_matches(path, entry.file_hash):
            raise CorruptDataError(
                f"{path} does not match its published hash {entry.file_hash}: the file is damaged or a "
                f"different version. Delete it and fetch it again.\n" + missing_message(entry)
            )
        return path
    if entry.origin is None:
        raise DataNotAvailableError(missing_message(entry, "it has no public download URL"))
    import keras

    path.parent.mkdir(parents=True, exist_ok=True)
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=".download-") as tmp:
            downloaded = keras.utils.get_file(
                entry.fname, entry.origin, file_hash=entry.file_hash, cache_dir=tmp, cache_subdir="."
            )
            os.replace(downloaded, path)
    except Exception as error:  # no network, HTTP error, hash mismatch after download
        raise DataNotAvailableError(missing_message(entry, f"download failed ({type(error).__name__}: {error})")) \
            from error
    finally:
        socket.setdefaulttimeout(previous_timeout)
    return path


def extract(name: str) -> Path:
    """Fetch an archive and unpack it once into ``<cache>/<stem>_extracted`` (atomically); return that folder."""
    entry = get_entry(name)
    if not entry.archive:
        raise ValueError(f"{name!r} is not an archive")
    target = entry.extracted_path
    if target.is_dir():
        return target
    archive = fetch(name)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".extract-"))
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as z:
                z.extractall(tmp)
        else:
            with tarfile.open(archive) as t:
                t.extractall(tmp, filter="data")
        try:
            os.replace(tmp, target)
        except OSError:
            if not target.is_dir():  # another process finished the same extraction first: fine
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def link_cache(source: Path) -> list[Path]:
    """Link every registered file found under ``source`` (a folder laid out like the Keras cache,
    e.g. an offline copy) into the writable ``$KERAS_HOME``. Returns the links made."""
    source = Path(source).resolve()
    made = []
    for entry in REGISTRY.values():
        src = source / entry.cache_subdir / entry.fname
        if not src.exists() or entry.path.exists():
            continue
        entry.path.parent.mkdir(parents=True, exist_ok=True)
        entry.path.symlink_to(src)
        made.append(entry.path)
    return made
