"""Student editions and autograders from the chapter notebooks (``dlpy assign``), with otter-grader.

A chapter notebook is the solution edition. Its exercise cells carry a small, invisible marker in their
metadata, ``{"dlpy": {"question": "q2", "role": ...}}``, with the roles

- ``solution``: a code cell whose function bodies are the answer (the teaching copy is q1's), or, for a
  written question (``"manual": true``), a markdown answer;
- ``check``: the chapter's own check of the teaching copy (the student edition has ``grader.check`` instead);
- ``prompt``: the exercise's statement in the closing Exercises section.

:func:`master_notebook` turns that into an otter-assign master notebook (question blocks, solution
markers, the checks of :mod:`dlpy.classroom.checks` as exception-based tests) and :func:`assign` runs
``otter assign`` on it for each chapter::

    OUT/student/01_imdb.ipynb           hand this out
    OUT/autograder/01_imdb/             the solution notebook and autograder.zip, for dlpy grade

Nothing here is chapter-specific: a chapter gets exercises by tagging cells and adding a checks module.
"""

from __future__ import annotations

import ast
import copy
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from dlpy.classroom.checks import Check, chapter_checks

ROLES = ("prompt", "solution", "check")
MANUAL_POINTS = 1


def marker(cell) -> dict:
    """The cell's exercise marker (empty for an ordinary cell)."""
    found = cell.get("metadata", {}).get("dlpy", {})
    if found and found.get("role") not in ROLES:
        raise ValueError(f"exercise marker {found!r}: role must be one of {ROLES}")
    return found


def solution_markers(source: str) -> str:
    """``source`` with every function body (methods included, docstrings kept) between otter's
    ``# BEGIN SOLUTION`` and ``# END SOLUTION`` lines, so that the student edition keeps the signatures
    and gets ``...`` for the bodies. Module-level imports and constants stay visible."""
    tree = ast.parse(source)
    lines = source.splitlines()
    bodies = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                    and isinstance(body[0].value.value, str):
                body = body[1:]  # keep the docstring: it is part of the question
            if not body:
                continue  # only a docstring: nothing to take out
            if body[0].lineno == node.lineno:
                raise ValueError(f"function {node.name!r} is written on one line: put its body on lines of its own, "
                                 "so that the student edition can keep the signature")
            first = min([body[0].lineno] + [d.lineno for d in getattr(body[0], "decorator_list", [])])
            bodies.append((first, body[-1].end_lineno, body[0].col_offset))
    if not bodies:
        raise ValueError("a solution cell must define at least one function (its body is the answer); got:\n"
                         + source[:200])
    # innermost bodies are never nested in these cells; mark from the bottom so line numbers stay valid
    for start, end, indent in sorted(bodies, reverse=True):
        if any(s < start and end <= e for s, e, _ in bodies if (s, e) != (start, end)):
            continue  # a function inside a marked body: already taken out with it
        pad = " " * indent
        lines[end:end] = [pad + "# END SOLUTION"]
        lines[start - 1:start - 1] = [pad + "# BEGIN SOLUTION"]
    return "\n".join(lines) + "\n"


def student_source(source: str) -> str:
    """What the student edition shows for a solution cell (otter's own stripping of the markers)."""
    from otter.assign.solutions import replace_solutions

    return "\n".join(replace_solutions(solution_markers(source).splitlines(), "python")) + "\n"


def _raw(text: str):
    import nbformat

    return nbformat.v4.new_raw_cell(text)


def _test_cell(check: Check):
    import nbformat

    config = (f'""" # BEGIN TEST CONFIG\npoints: {check.points:g}\nhidden: {str(check.hidden).lower()}\n'
              '""" # END TEST CONFIG\n')
    return nbformat.v4.new_code_cell(config + check.source)


def _config(slug: str) -> str:
    return "\n".join([
        "# ASSIGNMENT CONFIG", f"name: {slug}", "init_cell: true", "check_all_cell: false", "export_cell: false",
        "run_tests: false", "generate: true", "tests:", "  files: false", "  ok_format: false",
    ])


def master_notebook(path: Path):
    """The otter-assign master notebook of the chapter at ``path`` (an ``nbformat`` notebook)."""
    import nbformat

    path = Path(path)
    chapter = nbformat.read(path, as_version=4)
    checks = chapter_checks(path.stem)
    cells, open_question, seen = [_raw(_config(path.stem))], None, []
    for cell in chapter.cells:
        cell = copy.deepcopy(cell)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        found = marker(cell)
        question, role = found.get("question"), found.get("role")
        if not found:
            cells.append(cell)
            continue
        manual = bool(found.get("manual"))
        if role == "check":
            continue  # grader.check takes its place
        if question not in seen:
            seen.append(question)
            header = f"# BEGIN QUESTION\nname: {question}"
            header += f"\nmanual: true\npoints: {MANUAL_POINTS}" if manual else ""
            cells.append(_raw(header))
            open_question = question
            if role == "solution" and cell.cell_type == "code":  # the teaching copy: a pointer as its prompt
                cells.append(nbformat.v4.new_markdown_cell(
                    f"**Exercise {question[1:]} (`{question}`)**: fill in the cell below; the statement is in "
                    "*Exercises* at the end of the chapter."))
        if role == "prompt":  # after its question's block (q1's statement in Exercises): plain markdown
            cells.append(cell)
            continue
        # role == "solution"
        if cell.cell_type == "code":
            cell.source = solution_markers(cell.source)
        cells += [_raw("# BEGIN SOLUTION"), cell, _raw("# END SOLUTION")]
        if not manual:
            tests = checks.for_question(question)
            if not tests:
                raise ValueError(f"{path.name}: question {question} has no checks in "
                                 f"dlpy/classroom/checks/chapter_{path.stem[:2]}.py")
            cells += [_raw("# BEGIN TESTS"), *(_test_cell(t) for t in tests), _raw("# END TESTS")]
        cells.append(_raw("# END QUESTION"))
        open_question = None
    if open_question:
        raise ValueError(f"{path.name}: question {open_question} has a prompt but no solution cell")
    missing = set(checks.questions()) - set(seen)
    if missing:
        raise ValueError(f"{path.name}: checks for {sorted(missing)} but no cells marked with those questions")
    master = nbformat.v4.new_notebook(metadata=copy.deepcopy(chapter.metadata))
    master.cells = cells
    return master


@dataclass(frozen=True)
class Assignment:
    """One chapter's outputs: the student notebook, the autograder folder and zip."""

    chapter: str
    student: Path
    autograder: Path
    seconds: float

    @property
    def autograder_zip(self) -> Path:
        return self.autograder / "autograder.zip"


def assign(chapters: list[Path], out: Path) -> list[Assignment]:
    """Build ``out/student/NN_slug.ipynb`` and ``out/autograder/NN_slug/`` for each chapter notebook."""
    import nbformat

    try:
        from otter.assign import main as otter_assign
    except ImportError:
        raise ImportError("dlpy assign needs otter-grader: pip install -e \".[classroom]\"") from None
    out = Path(out)
    (out / "student").mkdir(parents=True, exist_ok=True)
    built = []
    for path in chapters:
        path = Path(path)
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix=f"dlpy-assign-{path.stem}-") as work:
            master = Path(work) / "master" / path.name
            master.parent.mkdir()
            nbformat.write(master_notebook(path), master)
            otter_assign(str(master), str(Path(work) / "dist"), no_pdfs=True)
            autograder = out / "autograder" / path.stem
            if autograder.exists():
                shutil.rmtree(autograder)
            shutil.copytree(Path(work) / "dist" / "autograder", autograder)
            zips = sorted(autograder.glob(f"{path.stem}-autograder_*.zip"))
            if len(zips) != 1:
                raise RuntimeError(f"otter assign made {len(zips)} autograder zips for {path.stem}; expected one")
            zips[0].rename(autograder / "autograder.zip")  # a stable name for dlpy grade
            student = out / "student" / path.name
            shutil.copyfile(Path(work) / "dist" / "student" / path.name, student)
        built.append(Assignment(path.stem, student, autograder, time.perf_counter() - started))
    return built
