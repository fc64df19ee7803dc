"""Faults at the `dlpy` command, driven as a teacher or CI would meet them: bad options, bad folders,
bad environment, damaged files, and a run stopped by Ctrl-C or SIGTERM. Each case checks that the
message names the problem and the fix, and that nothing is left behind."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from dlpy.course import cli, runner
from dlpy.data import registry

DLPY = [sys.executable, "-m", "dlpy.course.cli"]


def notebook(folder: Path, name: str, *sources: str) -> Path:
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_markdown_cell(f"# {name}")] + [nbformat.v4.new_code_cell(s) for s in sources]
    path = folder / f"{name}.ipynb"
    nbformat.write(book, path)
    return path


@pytest.mark.parametrize("value", ["0", "-5", "ten"])
def test_a_timeout_must_be_a_positive_number_of_seconds(value, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", "01", "--timeout", value])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"{value!r} is not a positive number of seconds" in err and "--timeout 600" in err


def test_run_without_chapters_says_how(capsys):
    assert cli.main(["run"]) == 2
    assert "dlpy run --all" in capsys.readouterr().err


def test_an_unknown_profile_is_named_by_run(monkeypatch, capsys):
    monkeypatch.setenv("DLPY_PROFILE", "turbo")
    assert cli.main(["run", "01"]) == 2
    assert "Unknown profile 'turbo'. Choose one of smoke, quick, full" in capsys.readouterr().err


def test_an_unknown_profile_is_reported_by_doctor_not_a_crash():
    environment = {**os.environ, "DLPY_PROFILE": "turbo"}
    done = subprocess.run([*DLPY, "doctor"], capture_output=True, text=True, env=environment)
    assert done.returncode == 2
    assert "Unknown profile 'turbo'" in done.stderr and "Traceback" not in done.stderr


def test_linking_a_folder_that_does_not_exist_fails_clearly(keras_home, tmp_path, capsys):
    assert cli.main(["data", "--link", str(tmp_path / "no" / "such" / "dir")]) == 2
    err = capsys.readouterr().err
    assert "No folder" in err and "laid out like the Keras cache" in err
    assert not any((keras_home / "datasets").iterdir())


def test_linking_a_folder_without_course_files_fails_clearly(keras_home, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert cli.main(["data", "--link", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert "holds none of the course's files" in err and "datasets/mnist.npz" in err


def test_a_dangling_link_in_the_cache_is_replaced(keras_home, tmp_path, capsys):
    offline = tmp_path / "offline" / "datasets"
    offline.mkdir(parents=True)
    nietzsche = registry.REGISTRY["nietzsche"]
    (keras_home / "datasets" / nietzsche.fname).symlink_to(tmp_path / "gone.txt")  # an old copy was moved
    boston = registry.REGISTRY["boston_housing"]
    (offline / boston.fname).write_bytes(b"x")
    (offline / nietzsche.fname).write_text("preface")
    assert cli.main(["data", "--link", str(tmp_path / "offline")]) == 1  # both linked; both are damaged copies
    out = capsys.readouterr().out
    assert "Linked 2 file(s)" in out
    assert (keras_home / "datasets" / nietzsche.fname).read_text() == "preface"
    assert "it has 1 bytes, expected 57,026" in out and "rm '" in out  # `dlpy data` names each problem and fix


def test_keras_home_pointing_at_a_file_is_named(tmp_path, monkeypatch, capsys):
    a_file = tmp_path / "keras.json"
    a_file.write_text("{}")
    monkeypatch.setenv("KERAS_HOME", str(a_file))
    assert cli.main(["data"]) == 2
    assert f"KERAS_HOME={a_file} is a file, not a folder" in capsys.readouterr().err


def test_linking_into_a_read_only_cache_says_where_to_link_instead(keras_home, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(registry, "is_writable", lambda folder: False)  # root ignores file modes: pretend
    (tmp_path / "offline" / "datasets").mkdir(parents=True)
    assert cli.main(["data", "--link", str(tmp_path / "offline")]) == 2
    assert "is read-only" in capsys.readouterr().err


def test_a_damaged_results_table_is_named_with_the_fix(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DLPY_BUILD_DIR", str(tmp_path))
    (tmp_path / "results.json").write_text('[{"chapter": "01_imdb", "met')
    assert cli.main(["results"]) == 1
    err = capsys.readouterr().err
    assert f"The results table {tmp_path / 'results.json'} is damaged: it is not valid JSON" in err
    assert "Move it aside" in err


# --- dlpy run: progress, timeouts, dead kernels, and stopping ---------------------------------------

def test_progress_shows_each_cell_on_plain_lines_when_not_a_terminal(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    notebook(folder, "01_two_cells", "x = 1", "y = 2")
    done = subprocess.run([*DLPY, "run", "01", "--notebooks", str(folder), "--build-dir", str(tmp_path / "build"),
                           "--no-html", "--profile", "smoke"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "cell 1/2" in done.stdout and "cell 2/2" in done.stdout and "ok in" in done.stdout


def test_a_cell_past_the_timeout_is_reported_as_a_timeout(tmp_path):
    path = notebook(tmp_path, "01_slow", "import time\ntime.sleep(30)")
    result = runner.execute(path, "smoke", tmp_path / "build", timeout=2, html=False, progress=False)
    assert not result.ok and not result.stopped
    assert "timeout: it ran longer than 2 s" in result.error and "time.sleep(30)" in result.error
    assert "dlpy run --timeout" in result.error


def test_a_dying_kernel_is_named_with_its_cell_and_log(tmp_path):
    path = notebook(tmp_path, "01_crash", "x = 1", "import os\nos.kill(os.getpid(), 9)")
    result = runner.execute(path, "smoke", tmp_path / "build", html=False, progress=False)
    assert not result.ok
    assert "the kernel died" in result.error and "os.kill(os.getpid(), 9)" in result.error
    assert str(tmp_path / "build" / "01_crash.kernel.log") in result.error


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_the_first_signal_stops_the_whole_run_and_its_kernel(tmp_path, stop_signal):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    pid_file = tmp_path / "kernel.pid"
    notebook(folder, "01_long", f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
                                "time.sleep(120)")
    notebook(folder, "02_next", "x = 1")
    process = subprocess.Popen([*DLPY, "run", "--all", "--notebooks", str(folder), "--build-dir",
                                str(tmp_path / "build"), "--no-html", "--profile", "smoke"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not pid_file.exists() and time.time() < deadline:
        time.sleep(0.2)
    kernel = int(pid_file.read_text())
    time.sleep(0.5)
    process.send_signal(stop_signal)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert f"Stopped by {stop_signal.name} during 01_long; its kernel was shut down." in err
    assert "Not run: 02_next." in err and "Traceback" not in err
    with pytest.raises(ProcessLookupError):  # no orphan kernel
        for _ in range(50):
            os.kill(kernel, 0)
            time.sleep(0.1)
    assert not (tmp_path / "build" / "results.json").exists() or json.loads((tmp_path / "build" / "results.json")
                                                                           .read_text()) == []
