"""Faults in the course's data files, as a student or a classroom meets them: truncated files, error
pages saved under a file's name, broken downloads, dangling links, a read-only shared cache, no
network, bad arguments to the loaders. Each case checks that the error names the file, what is
wrong and the fix, and that no damaged file is left under a final name."""

import dataclasses
import hashlib
import http.server
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from dlpy.data import registry
from dlpy.data.nietzsche import load_nietzsche
from dlpy.data.photos import load_image
from dlpy.data.registry import CorruptDataError, DataNotAvailableError
from dlpy.models.backbones import load_backbone

SHARED = Path(__file__).resolve().parents[2] / "shared" / "keras-cache"


def register(monkeypatch, **fields):
    entry = dataclasses.replace(registry.REGISTRY["nietzsche"], name="test_file", **fields)
    monkeypatch.setitem(registry.REGISTRY, "test_file", entry)
    return entry


NIETZSCHE = registry.REGISTRY["nietzsche"]


@pytest.mark.parametrize("content, problem", [
    (b"x" * 50_000, "it has 50,000 bytes, expected 600,901 (a truncated or different file)"),
    (b"<!DOCTYPE html><html><body>404 Not Found</body></html>", "it is an HTML page"),
    (b"", "it is empty (0 bytes)"),
    (b"y" * 600_901, "its sha256 is not the expected"),
])
def test_a_damaged_corpus_is_refused_with_its_path_and_the_fix(keras_home, content, problem):
    path = keras_home / "datasets" / NIETZSCHE.fname
    path.write_bytes(content)
    assert registry.status(NIETZSCHE) == "corrupt"
    with pytest.raises(CorruptDataError) as error:
        load_nietzsche()
    message = str(error.value)
    assert f"Data file {path} is damaged: {problem}" in message
    assert f"rm '{path}'" in message and "dlpy data --link DIR" in message
    assert path.read_bytes() == content  # reported, never deleted behind the user's back


def serve(tmp_path, name, content):
    (tmp_path / "served").mkdir(exist_ok=True)
    (tmp_path / "served" / name).write_bytes(content)
    return (tmp_path / "served" / name).as_uri()


@pytest.mark.parametrize("content, problem", [
    (b"course data", "it has 11 bytes, expected 600,901"),
    (b"<html><body>Service unavailable</body></html>", "it is an HTML page"),
])
def test_a_bad_download_is_refused_and_nothing_lands(keras_home, tmp_path, monkeypatch, content, problem):
    entry = register(monkeypatch, origin=serve(tmp_path, "nietzsche.txt", content))
    with pytest.raises(CorruptDataError, match=f"The download of nietzsche.txt from .* is damaged: {problem}"):
        registry.fetch("test_file")
    assert not entry.path.exists()
    assert not [p for p in (keras_home / "datasets").iterdir()]  # no temporary folder either


def test_a_good_download_through_file_origin_lands_checked(keras_home, tmp_path, monkeypatch):
    content = b"the whole text"
    entry = register(monkeypatch, origin=serve(tmp_path, "nietzsche.txt", content),
                     sha256=hashlib.sha256(content).hexdigest(), size=len(content))
    assert registry.fetch("test_file").read_bytes() == content
    assert registry.status(entry) == "present"


def test_a_dangling_link_is_missing_not_a_crash(keras_home, tmp_path):
    entry = registry.REGISTRY["cats_and_dogs_small"]
    entry.path.symlink_to(tmp_path / "moved-away.tar.gz")
    assert registry.status(entry) == "missing"
    with pytest.raises(DataNotAvailableError, match="no public download URL(.|\n)*and put it at: "):
        registry.fetch("cats_and_dogs_small")


def test_link_cache_replaces_a_dangling_link(keras_home, tmp_path):
    offline = tmp_path / "offline" / "datasets"
    offline.mkdir(parents=True)
    (offline / NIETZSCHE.fname).write_text("text")
    NIETZSCHE.path.symlink_to(tmp_path / "gone")
    assert registry.link_cache(tmp_path / "offline") == [NIETZSCHE.path]
    assert NIETZSCHE.path.read_text() == "text"


@pytest.mark.parametrize("make, message", [
    (lambda tmp: tmp / "nowhere", "No folder"),
    (lambda tmp: (tmp / "empty").mkdir() or tmp / "empty", "holds none of the course's files"),
])
def test_link_cache_refuses_a_folder_it_cannot_use(keras_home, tmp_path, make, message):
    with pytest.raises(ValueError, match=message):
        registry.link_cache(make(tmp_path))


def test_keras_home_that_is_a_file_is_named(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "file"))
    with pytest.raises(ValueError, match="is a file, not a folder: point KERAS_HOME at a folder"):
        registry.fetch("mnist")


@pytest.fixture
def read_only_home(keras_home, monkeypatch, tmp_path):
    """A classroom's shared cache that nobody may write to (as root, file modes do not stop writes:
    the check itself is replaced)."""
    monkeypatch.setattr(registry, "is_writable", lambda folder: not str(folder).startswith(str(keras_home)))
    monkeypatch.setattr(registry, "keras_fallback_cache", lambda: tmp_path / "tmp_keras")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user_cache"))
    return keras_home


def test_a_read_only_cache_serves_what_it_holds(read_only_home):
    NIETZSCHE.path.symlink_to(SHARED / "datasets" / NIETZSCHE.fname)
    assert registry.fetch("nietzsche") == NIETZSCHE.path
    shown = registry.show_to_keras("nietzsche")  # Keras reads its fallback folder instead of this one
    assert (registry.keras_fallback_cache() / "datasets" / NIETZSCHE.fname).resolve() == shown.resolve()
    assert registry.writable_cache() == read_only_home.parent / "user_cache" / "dlpy"


def test_a_read_only_cache_missing_a_file_says_where_a_writable_copy_goes(read_only_home):
    with pytest.raises(DataNotAvailableError) as error:
        registry.fetch("reuters")
    message = str(error.value)
    assert "is read-only, so it cannot be downloaded" in message
    assert f"export KERAS_HOME=~/.keras && dlpy data --link {read_only_home}" in message


def test_offline_a_missing_file_is_reported_within_two_seconds_of_a_fresh_start(tmp_path):
    code = ("import time; start = time.time()\n"
            "import sys, dlpy.data\n"
            "try:\n    dlpy.data.fetch('reuters')\n"
            "except dlpy.data.DataNotAvailableError as error:\n"
            "    print(round(time.time() - start, 2), 'keras' in sys.modules, 'offline?' in str(error))\n")
    # an origin nobody answers on: this machine is offline anyway, and CI too
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"KERAS_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    seconds, keras_loaded, says_offline = out.stdout.split()
    assert float(seconds) < 2.0 and keras_loaded == "False" and says_offline == "True", out.stderr


class Silent(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # accept the request, never answer
        time.sleep(30)


def test_a_server_that_never_answers_times_out_in_seconds(keras_home, monkeypatch):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Silent)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(registry, "READ_TIMEOUT_S", 1)
    register(monkeypatch, origin=f"http://127.0.0.1:{server.server_port}/nietzsche.txt")
    start = time.time()
    with pytest.raises(DataNotAvailableError, match=r"download failed \((.|\n)*timed out"):
        registry.fetch("test_file")
    assert time.time() - start < 10
    server.shutdown()
    assert not any((keras_home / "datasets").iterdir())


def test_an_unreachable_origin_is_offline_not_a_hang(keras_home, monkeypatch):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now
    register(monkeypatch, origin=f"http://127.0.0.1:{port}/nietzsche.txt")
    with pytest.raises(DataNotAvailableError, match=f"offline\\? 127.0.0.1:{port} cannot be reached"):
        registry.fetch("test_file")


def test_an_archive_that_does_not_unpack_is_named(keras_home, tmp_path, monkeypatch):
    register(monkeypatch, fname="pack.tar.gz", origin=serve(tmp_path, "pack.tar.gz", b"\x1f\x8bnot really gzip"),
             archive=True, sha256=None, size=None)
    with pytest.raises(CorruptDataError, match=r"pack.tar.gz is damaged: it cannot be unpacked"):
        registry.extract("test_file")
    assert not list((keras_home / "datasets").glob("*_extracted"))


# --- the loaders' arguments ------------------------------------------------------------------------

@pytest.mark.parametrize("size", [0, -3, (0, 10), (10,), (1.5, 10), True])
def test_load_image_refuses_a_size_that_is_no_size(size):
    with pytest.raises(ValueError, match=r"target_size is a size in pixels .* got"):
        load_image("elephant", target_size=size)


def test_load_image_takes_a_path(tmp_path):
    from PIL import Image

    Image.fromarray(np.full((20, 30, 3), 200, "uint8")).save(tmp_path / "photo.png")
    image = load_image(tmp_path / "photo.png", target_size=10)
    assert image.shape == (10, 15, 3) and image.dtype == np.float32


def test_load_image_of_a_file_that_is_no_image_names_it(tmp_path):
    (tmp_path / "notes.jpg").write_text("not a picture")
    with pytest.raises(ValueError, match=f"{tmp_path / 'notes.jpg'} is not an image that can be read"):
        load_image(tmp_path / "notes.jpg")


@pytest.mark.parametrize("name, error, message", [
    ("no_such_photo.jpg", FileNotFoundError, "not a file, and not one of the sample photos elephant"),
    (42, TypeError, "A photo is a sample name"),
    ("skimage:no_such_sample", ValueError, "scikit-image has no sample image 'no_such_sample'"),
])
def test_load_image_of_something_else_says_what_it_takes(name, error, message):
    with pytest.raises(error, match=message):
        load_image(name)


@pytest.mark.parametrize("kwargs, message", [
    ({"include_top": True, "input_shape": (128, 128, 3)}, r"takes 224x224 images only .* include_top=False"),
    ({"input_shape": (10, 10, 3)}, r"input_shape is \(height, width, 3\) with sides of at least 32"),
    ({"input_shape": (128, 128)}, r"input_shape is \(height, width, 3\)"),
])
def test_load_backbone_refuses_shapes_it_would_ignore(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_backbone("mobilenet", **kwargs)


def test_load_backbone_of_an_unknown_name_lists_the_names():
    with pytest.raises(ValueError, match="Unknown backbone 'resnet'. Choose one of: .*mobilenet"):
        load_backbone("resnet")


def test_backbone_weights_that_do_not_load_are_named(read_only_home, monkeypatch):
    from dlpy.models import backbones

    # a read-only cache loads weights by path (Keras itself would look in its fallback folder)
    monkeypatch.setattr(backbones, "is_writable", registry.is_writable)
    entry = registry.REGISTRY["mobilenet_0.75_224_notop"]
    entry.path.parent.mkdir(parents=True, exist_ok=True)
    entry.path.write_bytes((SHARED / "models" / entry.fname).read_bytes()[:200_000])  # the end was lost
    with pytest.raises(CorruptDataError, match=f"{entry.path} is damaged: its weights do not load"):
        load_backbone("mobilenet")


def test_link_cache_replaces_a_damaged_file_and_keeps_it_aside(keras_home):
    NIETZSCHE.path.write_bytes(b"x" * 50_000)  # a truncated download from long ago
    assert NIETZSCHE.path in registry.link_cache(SHARED)
    assert registry.status(NIETZSCHE) == "present"
    assert NIETZSCHE.path.with_name("nietzsche.txt.damaged").read_bytes() == b"x" * 50_000
