import dataclasses
import hashlib
import tarfile
import time
from pathlib import Path

import pytest

from dlpy.data import registry
from dlpy.data.registry import CorruptDataError, DataNotAvailableError


def _register(monkeypatch, **changes):
    changes = {"sha256": None, "size": None, **changes}  # boston's own sha256 and size fit no test file
    entry = dataclasses.replace(registry.REGISTRY["boston_housing"], name="test_file", **changes)
    monkeypatch.setitem(registry.REGISTRY, "test_file", entry)
    return entry


def test_missing_file_without_network_names_file_url_hash_and_folder(keras_home, monkeypatch):
    entry = _register(monkeypatch, origin="http://127.0.0.1:9/boston_housing.npz")  # nothing listens there
    start = time.time()
    with pytest.raises(DataNotAvailableError) as error:
        registry.fetch("test_file")
    message = str(error.value)
    assert time.time() - start < 5
    for expected in ("boston_housing.npz", entry.origin, entry.file_hash, str(keras_home / "datasets"), "offline?"):
        assert expected in message
    folder = keras_home / "datasets"
    assert not folder.exists() or not list(folder.iterdir()), "a failed download must leave nothing behind"


def test_download_is_hash_checked_and_lands_atomically(keras_home, tmp_path, monkeypatch):
    source = tmp_path / "served.bin"
    source.write_bytes(b"course data" * 100)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    entry = _register(monkeypatch, fname="served.bin", origin=source.as_uri(), file_hash=digest)
    path = registry.fetch("test_file")
    assert path == entry.path and path.read_bytes() == source.read_bytes()
    assert [p.name for p in path.parent.iterdir()] == ["served.bin"]  # no temporary folder left


def test_download_with_the_wrong_hash_leaves_no_file(keras_home, tmp_path, monkeypatch):
    source = tmp_path / "served.bin"
    source.write_bytes(b"not the published bytes")
    entry = _register(monkeypatch, fname="served.bin", origin=source.as_uri(), file_hash="0" * 64)
    with pytest.raises(DataNotAvailableError):
        registry.fetch("test_file")
    assert not entry.path.exists()
    assert not list(entry.path.parent.iterdir())


def test_corrupt_cached_file_is_a_hash_error_not_a_crash(keras_home):
    entry = registry.REGISTRY["boston_housing"]
    entry.path.parent.mkdir(parents=True, exist_ok=True)
    entry.path.write_bytes(b"truncated")
    assert registry.status(entry) == "corrupt"
    with pytest.raises(CorruptDataError, match=r"boston_housing.npz is damaged: it has 9 bytes, expected 57,026"
                                               r"(.|\n)*fix: delete it \(rm '"):
        registry.fetch("boston_housing")


def test_file_without_public_url_says_so(keras_home):
    with pytest.raises(DataNotAvailableError, match="no public download URL"):
        registry.fetch("cats_and_dogs_small")


def test_unknown_name_lists_registered_files():
    with pytest.raises(KeyError, match="mnist"):
        registry.get_entry("mnist2")


def test_archive_is_extracted_once_into_keras_convention(keras_home, tmp_path, monkeypatch):
    folder = tmp_path / "pack" / "things"
    folder.mkdir(parents=True)
    (folder / "a.txt").write_text("hello")
    archive = tmp_path / "things.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="things")
    _register(monkeypatch, fname="things.tar.gz", origin=archive.as_uri(), file_hash=None, archive=True)
    target = registry.extract("test_file")
    assert target.name == "things_extracted" and (target / "things" / "a.txt").read_text() == "hello"
    assert registry.extract("test_file") == target


def test_link_cache_links_an_offline_copy(keras_home, tmp_path):
    offline = tmp_path / "offline"
    (offline / "datasets").mkdir(parents=True)
    (offline / "datasets" / "nietzsche.txt").write_text("preface")
    made = registry.link_cache(offline)
    assert made == [registry.REGISTRY["nietzsche"].path]
    assert registry.REGISTRY["nietzsche"].path.read_text() == "preface"


def test_every_registered_file_has_provenance():
    for entry in registry.REGISTRY.values():
        assert entry.description and entry.license, entry.name
        assert entry.origin or entry.note, f"{entry.name}: say where it comes from"
        if entry.file_hash:
            assert len(entry.file_hash) in (32, 64), entry.name


def test_the_registry_is_read_from_data_registry_toml(tmp_path):
    repo_file = Path(__file__).resolve().parents[1] / "data" / "registry.toml"
    assert registry.REGISTRY_FILE.resolve() == repo_file.resolve()  # the package's copy is a link to it
    assert list(registry.read_registry(repo_file)) == list(registry.REGISTRY)
    twice = tmp_path / "registry.toml"
    entry = '[[file]]\nname = "a"\nfname = "a.txt"\ncache_subdir = "datasets"\ndescription = "d"\nlicense = "l"\n'
    twice.write_text(entry + "\n" + entry)
    with pytest.raises(ValueError, match="'a' is registered twice"):
        registry.read_registry(twice)
    one = tmp_path / "one.toml"
    one.write_text(entry)
    assert registry.read_registry(one)["a"].origin is None  # no origin: no public URL
