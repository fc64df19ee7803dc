"""How notebooks are stored: clean, set up by dlpy, listed in the README, in chapter order."""

import re
from pathlib import Path

import nbformat
import pytest

from dlpy.course import notebooks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = notebooks.chapters(ROOT / "notebooks")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_clean_and_starts_with_setup(path):
    assert notebooks.hygiene_problems(path) == []


def test_readme_chapter_list_matches_the_notebooks():
    readme = (ROOT / "README.md").read_text()
    listed = re.findall(r"`(\d{2}_[a-z0-9_]+\.ipynb)`", readme)
    assert listed == [p.name for p in NOTEBOOKS]


# The course's chapters in the book's order (the table in DEVELOPERS.md). A chapter still to be
# written leaves its number free; a notebook never takes another chapter's number.
COURSE = ("imdb", "reuters", "boston_housing", "overfitting_and_regularization", "first_convnet",
          "convnet_small_data", "pretrained_convnet", "intermediate_activations", "filter_visualization",
          "grad_cam", "feature_space", "text_classification", "timeseries_forecasting", "working_with_keras",
          "convnet_architecture", "best_practices", "text_generation", "deepdream", "style_transfer", "vae", "dcgan")


def test_chapters_carry_their_number_in_the_course():
    expected = {f"{number:02d}_{slug}.ipynb" for number, slug in enumerate(COURSE, start=1)}
    assert [p.name for p in NOTEBOOKS if p.name not in expected] == []


def test_hygiene_catches_stored_outputs_and_a_missing_setup(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# 01 · Test"),
                      nbformat.v4.new_code_cell("import dlpy\nprint(1)", execution_count=3,
                                                outputs=[nbformat.v4.new_output("stream", text="1\n")]),
                      nbformat.v4.new_code_cell("model = tf.keras.Sequential()")]
    path = tmp_path / "01_test.ipynb"
    nbformat.write(notebook, path)
    problems = notebooks.hygiene_problems(path)
    assert any("dlpy.setup" in p for p in problems)
    assert any("keeps outputs" in p for p in problems)
    assert any("tf.keras" in p for p in problems)
    assert any("must end with" in p for p in problems)


def test_a_chapter_ending_with_the_wall_time_and_a_summary_is_clean(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# 01 · Test"),
                      nbformat.v4.new_code_cell('import dlpy\n\ncfg = dlpy.setup("01_test")'),
                      nbformat.v4.new_code_cell(notebooks.WALL_TIME_CELL),
                      nbformat.v4.new_markdown_cell("## Summary\n\n* done")]
    path = tmp_path / "01_test.ipynb"
    nbformat.write(notebook, path)
    assert notebooks.hygiene_problems(path) == []
    notebook.cells += [nbformat.v4.new_markdown_cell("## Exercises\n\nThree."), nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(notebook, path)
    assert notebooks.hygiene_problems(path) == [], "the exercises follow the summary"
    notebook.cells.insert(3, nbformat.v4.new_code_cell("y = 2"))
    nbformat.write(notebook, path)
    assert any("must end with" in p for p in notebooks.hygiene_problems(path)), "the body must still end in the summary"


def test_strip_keeps_only_checked_outputs():
    notebook = nbformat.v4.new_notebook()
    output = nbformat.v4.new_output("stream", text="(2, 3)\n")
    notebook.cells = [nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(x.shape)", execution_count=2,
                                                outputs=[output]),
                      nbformat.v4.new_code_cell("print(loss)", execution_count=3, outputs=[output])]
    notebooks.strip(notebook)
    assert notebook.cells[0].outputs and notebook.cells[0].execution_count == 2
    assert notebook.cells[1].outputs == [] and notebook.cells[1].execution_count is None


def test_selecting_an_unknown_chapter_lists_the_chapters(tmp_path):
    for name in ("01_imdb.ipynb", "02_reuters.ipynb"):
        nbformat.write(nbformat.v4.new_notebook(), tmp_path / name)
    assert notebooks.select(["2", "imdb"], tmp_path) == [tmp_path / "02_reuters.ipynb", tmp_path / "01_imdb.ipynb"]
    with pytest.raises(ValueError, match="no chapter '99'; chapters are: 01_imdb, 02_reuters"):
        notebooks.select(["99"], tmp_path)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_title_carries_the_chapter_number(path):
    title = nbformat.read(path, as_version=4).cells[0].source.splitlines()[0]
    assert title.startswith(f"# {path.name[:2]} · "), title
