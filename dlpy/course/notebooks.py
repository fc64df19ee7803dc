"""The course's notebooks as files: finding chapters, and storing notebooks clean.

A notebook is stored without outputs, except the cells marked ``# NBVAL_CHECK_OUTPUT``, whose
outputs nbval compares; :func:`strip` enforces that and :func:`hygiene_problems` checks it.
"""

from __future__ import annotations

import re
from pathlib import Path

CHECK_MARKER = "# NBVAL_CHECK_OUTPUT"
WALL_TIME_CELL = 'dlpy.record("wall_time_s", cfg.elapsed)'  # every chapter's last code cell
NOTEBOOK_NAME = re.compile(r"^(\d{2})_([a-z0-9_]+)\.ipynb$")


def notebooks_dir() -> Path:
    """``notebooks/`` of the course checkout (or of the current folder)."""
    from dlpy.course.results import repo_root

    root = repo_root()
    candidates = [root / "notebooks"] if root else []
    candidates.append(Path.cwd() / "notebooks")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("No notebooks/ folder found: run dlpy from the course checkout.")


def chapters(folder: Path | None = None) -> list[Path]:
    """Every chapter notebook, in order."""
    folder = folder or notebooks_dir()
    return sorted(p for p in folder.glob("*.ipynb") if NOTEBOOK_NAME.match(p.name))


def select(requested: list[str], folder: Path | None = None) -> list[Path]:
    """Notebooks for ``["1", "05", "grad_cam"]``: by number or by (part of) the slug."""
    available = chapters(folder)
    chosen = []
    for wanted in requested:
        key = wanted.removesuffix(".ipynb")
        if key.isdigit():
            matches = [p for p in available if int(p.name[:2]) == int(key)]
        else:
            matches = [p for p in available if p.stem == key] or [p for p in available if key in p.stem]
        if len(matches) != 1:
            listing = ", ".join(p.stem for p in available)
            problem = "no chapter" if not matches else "more than one chapter matches"
            raise ValueError(f"{problem} {wanted!r}; chapters are: {listing}")
        if matches[0] not in chosen:
            chosen.append(matches[0])
    return chosen


def is_checked(cell) -> bool:
    return cell.get("cell_type") == "code" and cell.get("source", "").lstrip().startswith(CHECK_MARKER)


def strip(notebook) -> None:
    """In place: drop outputs and execution counts of every code cell not marked ``# NBVAL_CHECK_OUTPUT``,
    and volatile metadata."""
    for cell in notebook.cells:
        cell.get("metadata", {}).pop("execution", None)
        cell.get("metadata", {}).pop("collapsed", None)
        if cell.cell_type == "code" and not is_checked(cell):
            cell.outputs = []
            cell.execution_count = None
    notebook.metadata.pop("widgets", None)
    notebook.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python",
                                       "name": "python3"}


WARNING_LINE = re.compile(r"^.*\b\w*Warning: .*$", re.MULTILINE)


def printed_warnings(notebook) -> list[str]:
    """Warning lines (``UserWarning: ...``, ``DeprecationWarning``...) an executed notebook printed."""
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                found += [f"cell {index}: {line.strip()}" for line in WARNING_LINE.findall(output.get("text", ""))]
    return found


EXERCISES_HEADING = "## Exercises"


def chapter_body(notebook) -> list:
    """The chapter's cells before its closing exercises (``## Exercises`` to the end; see
    :mod:`dlpy.classroom`): the exercises come after the summary, and do not count in the wall time."""
    cells = notebook.cells
    start = next((i for i, c in enumerate(cells) if c.cell_type == "markdown"
                  and c.source.startswith(EXERCISES_HEADING)), len(cells))
    return cells[:start]


def first_code_cell(notebook):
    return next((c for c in notebook.cells if c.cell_type == "code"), None)


def hygiene_problems(path: Path) -> list[str]:
    """What is wrong with how a notebook is stored (empty list: nothing)."""
    import nbformat

    problems = []
    if not NOTEBOOK_NAME.match(path.name):
        problems.append(f"{path.name}: name must be NN_slug.ipynb (lowercase, digits, underscores)")
    notebook = nbformat.read(path, as_version=4)
    first = first_code_cell(notebook)
    expected = f'dlpy.setup("{path.stem}"'
    if first is None or expected not in first.source:
        problems.append(f"{path.name}: the first code cell must call {expected})")
    if not notebook.cells or notebook.cells[0].cell_type != "markdown" or not notebook.cells[0].source.startswith("# "):
        problems.append(f"{path.name}: must open with a markdown title ('# ...')")
    cells = chapter_body(notebook)
    if len(cells) < 2 or cells[-2].cell_type != "code" or cells[-2].source.strip() != WALL_TIME_CELL \
            or cells[-1].cell_type != "markdown" or not cells[-1].source.startswith("## Summary"):
        problems.append(f"{path.name}: must end with a code cell `{WALL_TIME_CELL}`, then a '## Summary' cell"
                        f" (and then, optionally, the '{EXERCISES_HEADING}' section)")
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and re.search(r"\btf\.keras\b|from tensorflow import keras", cell.source):
            problems.append(f"{path.name}: cell {index} uses tf.keras; the course uses Keras 3 (`import keras`)")
        if cell.cell_type != "code" or is_checked(cell):
            continue
        if cell.outputs or cell.execution_count is not None:
            problems.append(f"{path.name}: cell {index} keeps outputs but is not marked {CHECK_MARKER}"
                            " (store it with `dlpy strip`)")
    return problems
