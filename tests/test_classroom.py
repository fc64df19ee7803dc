"""The classroom edition with otter-grader: ``dlpy assign`` builds, for every chapter, a student notebook
without the answers and an autograder that checks them; the student edition's exercise cells run
without crashing and score zero; ``dlpy grade`` grades real notebooks end to end (the solution edition
full marks, an unanswered one zero, a wrong answer only partly) into a CSV and feedback files."""

import ast
import os
import shutil
from pathlib import Path

import nbformat
import pytest

from dlpy.classroom.assign import master_notebook, solution_markers, student_source
from dlpy.classroom.checks import chapter_checks
from dlpy.course.cli import main
from dlpy.course.results import results_path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CHAPTERS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
# the chapter graded end to end here: the fastest in the smoke profile
GRADED = NOTEBOOKS / "18_deepdream.ipynb"


def test_solution_markers_take_out_function_bodies_and_keep_signatures_docstrings_and_imports():
    source = ('from scipy import linalg\n\n\ndef f(x, y=2):\n    """Add."""\n    z = x + y\n    return z\n\n\n'
              'class Metric:\n    def result(self):\n        return 1\n')
    student = student_source(source)
    assert student == ('from scipy import linalg\n\n\ndef f(x, y=2):\n    """Add."""\n    ...\n\n\n'
                       'class Metric:\n    def result(self):\n        ...\n')
    assert "# BEGIN SOLUTION" in solution_markers(source) and "z = x + y" in solution_markers(source)
    namespace = {}
    exec(student, namespace)  # noqa: S102
    assert namespace["f"](1) is None and namespace["Metric"]().result() is None


def test_a_solution_cell_without_a_function_is_a_clear_error():
    with pytest.raises(ValueError, match="must define at least one function"):
        solution_markers("answer = 42\n")


def test_a_nested_function_goes_out_with_its_parent_and_its_decorator():
    student = student_source("def outer():\n    def inner():\n        return 1\n    return inner\n")
    assert student == "def outer():\n    ...\n"
    student = student_source("def outer():\n    @staticmethod\n    def inner():\n        return 1\n    return inner\n")
    assert student == "def outer():\n    ...\n"


def test_a_one_line_function_is_a_clear_error_and_a_docstring_only_function_stays():
    with pytest.raises(ValueError, match="'f' is written on one line"):
        solution_markers("def f(): return 1\n")
    source = 'def f():\n    """Only a docstring."""\n\n\ndef g(x):\n    return x\n'
    assert student_source(source) == 'def f():\n    """Only a docstring."""\n\n\ndef g(x):\n    ...\n'


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_chapter_makes_a_well_formed_otter_master_notebook(path):
    master = master_notebook(path)
    raw = [c.source.splitlines()[0] for c in master.cells if c.cell_type == "raw"]
    assert raw[0] == "# ASSIGNMENT CONFIG"
    for begin, end in (("# BEGIN QUESTION", "# END QUESTION"), ("# BEGIN SOLUTION", "# END SOLUTION"),
                       ("# BEGIN TESTS", "# END TESTS")):
        assert raw.count(begin) == raw.count(end) >= 1, f"{path.stem}: unbalanced {begin}"
    tests = [c for c in master.cells if c.cell_type == "code" and "# BEGIN TEST CONFIG" in c.source]
    assert len(tests) == len(chapter_checks(path.stem).checks)
    assert not any("NBVAL" in c.source and c.outputs for c in master.cells if c.cell_type == "code")


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    """``dlpy assign --all`` into a temporary folder, once for this module."""
    out = tmp_path_factory.mktemp("classroom")
    assert main(["assign", "--all", "--out", str(out)]) == 0
    return out


def student_cells(notebook) -> list[str]:
    return [c.source for c in notebook.cells if c.cell_type == "code"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_the_student_edition_has_no_answers_and_a_check_under_each_autograded_exercise(classroom, path):
    student = nbformat.read(classroom / "student" / path.name, as_version=4)
    chapter = nbformat.read(path, as_version=4)
    code = "\n".join(student_cells(student))
    answers = [c for c in chapter.cells if c.get("metadata", {}).get("dlpy", {}).get("role") == "solution"]
    for answer in answers:
        body = [line for line in answer.source.splitlines()[1:] if line.strip() and not line.lstrip().startswith("#")]
        if answer.cell_type == "code":
            assert body[-1] not in code, f"{path.stem}: an answer line is in the student edition: {body[-1]!r}"
        else:
            assert answer.source not in "\n".join(c.source for c in student.cells), f"{path.stem}: a written answer"
    checks = chapter_checks(path.stem)
    for question in checks.questions():
        assert f'grader.check("{question}")' in code
    tests = student.metadata["otter"]["tests"]
    assert set(tests) == set(checks.questions())
    hidden = [c.name for c in checks.checks if c.hidden]
    assert hidden and not any(name in text for name in hidden for text in tests.values()), "hidden tests leaked"
    assert (classroom / "autograder" / path.stem / "autograder.zip").is_file()


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_an_unanswered_student_edition_runs_its_exercise_cells_without_crashing_and_scores_zero(
        classroom, path, tmp_path, monkeypatch):
    """What a student gets by running the exercise cells before answering: no exception, every check
    failed with a message. (The rest of the chapter is the chapter itself, which pytest runs.)"""
    import keras
    import numpy as np
    import tensorflow as tf

    student = nbformat.read(classroom / "student" / path.name, as_version=4)
    shutil.copy(classroom / "student" / path.name, tmp_path / path.name)
    monkeypatch.chdir(tmp_path)
    cells = student_cells(student)
    init = next(c for c in cells if "otter.Notebook" in c)
    stubs = [c for c in cells if "\n    ...\n" in c + "\n" or "\n        ...\n" in c + "\n"]
    check_cells = [c for c in cells if c.startswith("grader.check(")]
    assert len(stubs) >= 2 and len(check_cells) == len(chapter_checks(path.stem).questions())
    stubbed = {node.name for c in stubs for node in ast.parse(c).body if isinstance(node, (ast.FunctionDef,
                                                                                            ast.ClassDef))}
    later_uses = [c for c in cells if c not in stubs and not c.startswith("grader.check(")
                  and any(name in c for name in stubbed)]
    assert not later_uses, f"{path.stem}: cells use an exercise's answer, so they would crash unanswered: {later_uses}"
    namespace = {"np": np, "keras": keras, "tf": tf, "layers": keras.layers}
    for cell in [init, *stubs]:
        exec(cell, namespace)  # noqa: S102
    for cell in check_cells:
        result = eval(cell, namespace)  # noqa: S307  (grader.check("qN"): shows the failures, raises nothing)
        assert result.grade == 0, f"{path.stem}: {cell} gives {result.grade} unanswered"
        assert "AssertionError: " in repr(result), f"{path.stem}: {cell} shows no message: {result!r}"


@pytest.mark.skipif(os.environ.get("KERAS_HOME") is None and not (Path.home() / ".keras").exists(),
                    reason="needs the Keras cache for chapter 18's InceptionV3 weights")
def test_dlpy_grade_gives_full_marks_zero_and_partial_credit_with_feedback(classroom, tmp_path, monkeypatch):
    submissions = tmp_path / "collected"
    submissions.mkdir()
    shutil.copy(classroom / "autograder" / GRADED.stem / GRADED.name, submissions / "solution.ipynb")
    shutil.copy(classroom / "student" / GRADED.name, submissions / "unanswered.ipynb")
    wrong = nbformat.read(classroom / "autograder" / GRADED.stem / GRADED.name, as_version=4)
    wrong_answer = chapter_checks(GRADED.stem).wrong_answers["q2"]
    name = ast.parse(wrong_answer).body[0].name
    cell = next(c for c in wrong.cells if c.cell_type == "code" and f"def {name}(" in c.source)
    cell.source = wrong_answer
    (submissions / "wrong").mkdir()
    nbformat.write(wrong, submissions / "wrong" / "my_notebook.ipynb")

    monkeypatch.setenv("DLPY_BUILD_DIR", str(tmp_path / "teacher_build"))  # the teacher's build/, here
    assert main(["grade", str(submissions), "--out", str(classroom)]) == 0
    rows = (classroom / "grades" / "grades.csv").read_text().splitlines()
    assert rows[0] == "student,chapter,question,points,max_points"
    score = {}
    for row in rows[1:]:
        student, chapter, question, points, max_points = row.split(",")
        assert chapter == GRADED.stem
        score.setdefault(student, [0.0, 0.0])
        score[student][0] += float(points)
        score[student][1] += float(max_points)
    assert score["solution"][0] == score["solution"][1] > 0
    assert score["unanswered"][0] == 0
    assert 0 < score["wrong"][0] < score["wrong"][1]
    feedback = (classroom / "grades" / "feedback" / f"wrong_{GRADED.stem}.md").read_text()
    assert "## q1:" in feedback and "(all checks passed)" in feedback
    assert f"{name}(" in feedback, "the feedback names the call that failed"
    unanswered = (classroom / "grades" / "feedback" / f"unanswered_{GRADED.stem}.md").read_text()
    assert "returned None" in unanswered or "returns None" in unanswered
    written = (classroom / "grades" / "written" / f"{GRADED.stem}_q3.md").read_text()
    assert "## solution" in written and "## unanswered" in written and "Type your answer here" in written
    assert not results_path().exists(), "grading wrote into the teacher's build/results.json"


def test_an_unreadable_submission_has_no_chapter_and_no_written_answers(tmp_path):
    from dlpy.classroom.grade import chapter_of, written_answers

    broken = tmp_path / "broken.ipynb"
    broken.write_text("{ not json")
    assert chapter_of(broken) is None and written_answers(broken) == {}
