"""Executing notebooks headless (nbclient) into ``build/``: what ``dlpy run`` does."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class RunResult:
    notebook: Path
    ok: bool
    seconds: float
    executed: Path | None = None
    error: str = ""
    warnings: list[str] = field(default_factory=list)


def _kernel_env(profile: str, build: Path) -> dict:
    env = dict(os.environ)
    env["DLPY_PROFILE"] = profile
    env["DLPY_BUILD_DIR"] = str(build)
    env["DLPY_HEADLESS"] = "1"  # cfg.verbose: one line per epoch, no progress bars in stored notebooks
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    return env


def execute(path: Path, profile: str, build: Path, timeout: int | None = None, html: bool = True) -> RunResult:
    """Run one notebook top to bottom in a fresh kernel under ``profile``; write the executed
    notebook (and HTML) to ``build/``. Never raises for a failing cell: the result says what failed."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    notebook = nbformat.read(path, as_version=4)
    build.mkdir(parents=True, exist_ok=True)
    previous = dict(os.environ)
    os.environ.update(_kernel_env(profile, build))  # the kernel inherits this process's environment
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.time()
    error = ""
    kernel_log = open(build / f"{path.stem}.kernel.log", "w")  # the kernel's own stderr, off the progress lines
    try:
        client.execute(stderr=kernel_log)
    except (CellExecutionError, CellTimeoutError) as failure:
        error = _describe_failure(notebook, failure)
    except Exception as failure:  # kernel died, etc.
        error = f"{type(failure).__name__}: {failure}"
    finally:
        kernel_log.close()
        os.environ.clear()
        os.environ.update(previous)
    seconds = time.time() - start
    executed = build / path.name
    nbformat.write(notebook, executed)
    if html:
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter().from_notebook_node(notebook)
        executed.with_suffix(".html").write_text(body)
    from dlpy.course.notebooks import printed_warnings

    return RunResult(path, not error, seconds, executed, error, printed_warnings(notebook))


def _describe_failure(notebook, failure) -> str:
    failing = None
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        if any(output.get("output_type") == "error" for output in cell.get("outputs", [])):
            failing = (index, cell)
    lines = []
    if failing:
        index, cell = failing
        error = next(o for o in cell.outputs if o.get("output_type") == "error")
        lines.append(f"cell {index}:")
        lines += ["    " + line for line in cell.source.splitlines()[:15]]
        lines.append(f"{error.get('ename')}: {error.get('evalue')}")
    else:
        lines.append(str(failure).strip().splitlines()[-1] if str(failure).strip() else type(failure).__name__)
    return "\n".join(lines)
