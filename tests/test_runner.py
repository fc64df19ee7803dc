"""`dlpy run` end to end on tiny notebooks: a kernel starts, dlpy.record lands in build/, failures are named."""

import json

import nbformat
import pytest

from dlpy.course import cli, runner


def _notebook(path, *sources):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# 98 · Runner test")]
    notebook.cells += [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    path = _notebook(folder / "98_runner.ipynb",
                     'import dlpy\ncfg = dlpy.setup("98_runner")',
                     'size = cfg.pick(smoke=1, quick=2, full=3)\nprint("size", size)',
                     'dlpy.record("size", size, book=3)',
                     'import warnings\nwarnings.warn("old call", DeprecationWarning, stacklevel=1)')
    return folder, runner.execute(path, "smoke", folder / "build")


def test_a_notebook_runs_headless_under_the_profile_and_records_results(executed):
    folder, result = executed
    assert result.ok, result.error
    rows = json.loads((folder / "build" / "results.json").read_text())
    recorded = [(r["chapter"], r["metric"], r["value"], r["profile"]) for r in rows]
    assert recorded == [("98_runner", "size", 1.0, "smoke")]
    outputs = nbformat.read(result.executed, as_version=4).cells[2].outputs
    assert outputs[0]["text"] == "size 1\n"
    assert result.executed.with_suffix(".html").exists()
    assert len(result.warnings) == 1 and "DeprecationWarning: old call" in result.warnings[0]


def test_a_failing_cell_is_reported_with_its_source_and_error(tmp_path):
    path = _notebook(tmp_path / "97_broken.ipynb", "x = 1", "y = undefined_name + x")
    result = runner.execute(path, "smoke", tmp_path / "build", html=False)
    assert not result.ok
    assert "cell 2" in result.error and "undefined_name + x" in result.error and "NameError" in result.error


def test_run_an_unknown_chapter_lists_the_chapters(capsys):
    assert cli.main(["run", "99"]) == 2
    assert "no chapter '99'; chapters are:" in capsys.readouterr().err


def test_cli_needs_chapters_or_all(capsys):
    assert cli.main(["run"]) == 2
    assert "--all" in capsys.readouterr().err
