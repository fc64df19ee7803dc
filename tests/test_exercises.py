"""Every chapter's exercises, checked in this process without running the chapters (fast enough for
every commit): the chapter (the solution edition) passes every check of ``dlpy.classroom.checks``, which
for q1 compares the teaching copy with the ``dlpy`` code the course runs; the student edition's empty
answers fail every check with an ``AssertionError`` (a message, not a crash); and each chapter's
deliberately wrong answer fails a check of its own question with a message that names the call.
The solution cells are read from the notebooks, so the chapters, the checks and the package cannot drift."""

import ast
import json
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from dlpy.classroom.assign import marker, student_source
from dlpy.classroom.checks import chapter_checks

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CHAPTERS = sorted(path.stem for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def cells(slug: str) -> list[dict]:
    return json.loads((NOTEBOOKS / f"{slug}.ipynb").read_text())["cells"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def exercises(slug: str) -> dict:
    """question -> {"prompt": [...], "solution": [...], "check": [...], "manual": bool}"""
    found = {}
    for cell in cells(slug):
        mark = marker(cell)
        if mark:
            entry = found.setdefault(mark["question"], {"prompt": [], "solution": [], "check": [], "manual": False})
            entry[mark["role"]].append(cell)
            entry["manual"] |= bool(mark.get("manual"))
    return found


def namespace_from(sources: list[str], name: str) -> dict:
    namespace = {"np": np, "keras": keras, "tf": tf, "layers": keras.layers}
    for text in sources:
        exec(compile(text, name, "exec"), namespace)  # noqa: S102 (the course's own cells)
    return namespace


def answers(slug: str, question: str) -> list[str]:
    return [source(c) for c in exercises(slug)[question]["solution"] if c["cell_type"] == "code"]


def autograded(slug: str) -> list[str]:
    return [q for q, entry in exercises(slug).items() if not entry["manual"]]


@pytest.mark.parametrize("slug", CHAPTERS)
def test_every_chapter_has_three_exercises_two_autograded_and_q1_is_its_teaching_copy(slug):
    found = exercises(slug)
    assert len(found) >= 3, f"{slug}: {len(found)} exercises; the course asks for 3-5"
    assert len(autograded(slug)) >= 2, f"{slug}: {autograded(slug)} autograded; at least 2"
    for question, entry in found.items():
        assert entry["prompt"], f"{slug} {question}: no prompt cell in the Exercises section"
        assert entry["solution"], f"{slug} {question}: no answer cell"
    teaching = [c for c in cells(slug) if "teaching-copy" in c.get("metadata", {}).get("tags", [])]
    assert len(teaching) == 1 and marker(teaching[0]) == {"question": "q1", "role": "solution"}, \
        f"{slug}: exercise 1 must be the chapter's one teaching copy"
    assert [c["cell_type"] for c in found["q1"]["check"]] == ["code"], \
        f"{slug}: the teaching copy's check (replaced by grader.check in the student edition) must be one code cell"
    checks = chapter_checks(slug)
    assert set(checks.questions()) == set(autograded(slug)), f"{slug}: checks for {checks.questions()}"
    for question in autograded(slug):
        public = [c for c in checks.for_question(question) if not c.hidden]
        assert public, f"{slug} {question}: students need at least one public check to self-check"


def defined_names(text: str) -> set[str]:
    """The names a cell defines at the notebook's top level (not a function's locals)."""
    names = set()
    for statement in ast.parse(text).body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(statement.name)
            continue
        names |= {n.id for n in ast.walk(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return names


def used_names(text: str) -> set[str]:
    """The global names a cell reads (a function's own arguments and locals are not)."""
    used = set()

    def visit(node, local):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            stores = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            local = local | {a.arg for a in arguments} | stores
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in local:
            used.add(node.id)
        for child in ast.iter_child_nodes(node):
            visit(child, local)

    visit(ast.parse(text), set())
    return used


@pytest.mark.parametrize("slug", CHAPTERS)
def test_nothing_after_an_exercise_needs_its_answer_or_its_check(slug):
    """The student edition empties the answers and drops the teaching copy's check cell: no later cell
    may use a name they define, or Run All would stop there before the student answers."""
    all_cells = cells(slug)
    taken_out = {}
    for index, cell in enumerate(all_cells):
        mark = marker(cell)
        if mark and mark["role"] in ("solution", "check") and cell["cell_type"] == "code":
            taken_out.update({name: index for name in defined_names(source(cell))})
        elif cell["cell_type"] == "code" and not mark:
            needed = {name for name in used_names(source(cell)) if taken_out.get(name, index) < index}
            redefined = defined_names(source(cell))
            assert not needed - redefined, f"{slug} cell {index} uses {sorted(needed - redefined)}, defined by an " \
                                           "exercise's answer or check cell: move that line to an ordinary cell"


@pytest.mark.parametrize("slug", CHAPTERS)
def test_the_solution_edition_passes_every_check(slug):
    for question in autograded(slug):
        namespace = namespace_from(answers(slug, question), f"{slug}:{question}")
        for check in chapter_checks(slug).for_question(question):
            check.run(namespace)  # raises with the check's own message


@pytest.mark.parametrize("slug", CHAPTERS)
def test_the_student_edition_fails_every_check_with_a_message(slug):
    for question in autograded(slug):
        namespace = namespace_from([student_source(text) for text in answers(slug, question)], f"{slug}:{question}")
        for check in chapter_checks(slug).for_question(question):
            with pytest.raises(AssertionError) as failure:
                check.run(namespace)
            assert str(failure.value).strip(), f"{slug} {check.name}: an empty message"


@pytest.mark.parametrize("slug", CHAPTERS)
def test_a_wrong_answer_fails_its_own_question_with_a_message_that_names_the_call(slug):
    checks = chapter_checks(slug)
    assert set(checks.wrong_answers) == set(autograded(slug)), f"{slug}: one wrong answer per autograded question"
    for question, wrong in checks.wrong_answers.items():
        namespace = namespace_from([wrong], f"{slug}:{question}:wrong")
        messages = []
        for check in checks.for_question(question):
            try:
                check.run(namespace)
            except AssertionError as error:
                messages.append(str(error))
        assert messages, f"{slug} {question}: the wrong answer passes every check"
        assert any(name in message for message in messages for name in checks.for_question(question)[0].parameters), \
            f"{slug} {question}: the failure does not say which function was called: {messages}"


def test_a_missing_name_is_a_failed_check_that_says_what_to_run():
    check = chapter_checks("01_imdb").for_question("q1")[0]
    with pytest.raises(AssertionError, match="multi_hot_by_hand is not defined: run the cell"):
        check.run({})


def test_an_unknown_chapter_is_a_clear_error():
    with pytest.raises(ValueError, match="no exercise checks"):
        chapter_checks("99_nothing")
    with pytest.raises(ValueError, match="use its number or slug"):
        chapter_checks("imdb")
