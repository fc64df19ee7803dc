"""Executing notebooks headless (nbclient) into ``build/``: what ``dlpy run`` does.

While a notebook runs, :class:`CellProgress` shows which cell is running and for how long (one
updating line in a terminal, a plain line per cell in a log). :class:`StopSignals` turns Ctrl-C and
SIGTERM into one clean stop: the running kernel is shut down, never left behind. A cell that runs
past the timeout, a kernel that dies and a failing cell are each reported as what they are, with
the cell and its source.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
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
    stopped: bool = False  # by Ctrl-C or SIGTERM


class StopSignals:
    """``with StopSignals() as stop:``: the first SIGINT (Ctrl-C) or SIGTERM raises KeyboardInterrupt
    in the main thread and is remembered in ``stop.signal`` (its name), so that a run of many chapters
    stops at once instead of going on with the next one."""

    def __init__(self):
        self.signal: str | None = None
        self._previous = {}

    def _handler(self, number, frame):
        self.signal = self.signal or signal.Signals(number).name
        raise KeyboardInterrupt(self.signal)

    def __enter__(self):
        for number in (signal.SIGINT, signal.SIGTERM):
            self._previous[number] = signal.signal(number, self._handler)
        return self

    def __exit__(self, *exc):
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        return False


class CellProgress:
    """Which code cell of a notebook runs, and the time so far: one line that updates every second
    in a terminal, or a plain line per cell when the output is a file or a pipe."""

    def __init__(self, total: int, stream=None, live: bool | None = None):
        self.total, self.stream = total, stream or sys.stdout
        self.live = self.stream.isatty() if live is None else live
        self.number, self.started = 0, time.time()
        self._done = threading.Event()
        self._thread = None

    def line(self) -> str:
        return f"cell {self.number}/{self.total}, {time.time() - self.started:4.0f} s"

    def cell(self, number: int) -> None:
        self.number = number
        if self.live:
            self._draw()
            if self._thread is None:
                self._thread = threading.Thread(target=self._tick, daemon=True)
                self._thread.start()
        else:
            print(f"    {self.line()}", file=self.stream, flush=True)

    def _draw(self) -> None:
        print(f"\r    {self.line()}  ", end="", file=self.stream, flush=True)

    def _tick(self) -> None:
        while not self._done.wait(1.0):
            self._draw()

    def close(self) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()
        if self.live and self.number:
            print("\r" + " " * 40 + "\r", end="", file=self.stream, flush=True)


def _kernel_env(profile: str, build: Path) -> dict:
    env = dict(os.environ)
    env["DLPY_PROFILE"] = profile
    env["DLPY_BUILD_DIR"] = str(Path(build).resolve())  # the kernel runs in the notebook's folder
    env["DLPY_HEADLESS"] = "1"  # cfg.verbose: one line per epoch, no progress bars in stored notebooks
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    return env


def execute(path: Path, profile: str, build: Path, timeout: int | None = None, html: bool = True,
            progress: bool = True, stop: StopSignals | None = None) -> RunResult:
    """Run one notebook top to bottom in a fresh kernel under ``profile``; write the executed
    notebook (and HTML) to ``build/`` and the kernel's own messages to ``build/<name>.kernel.log``.
    Never raises for a failing notebook: the result says what failed (a timeout, a dead kernel, a
    failing cell, each with the cell and its source).

    Args:
        path: the notebook file.
        profile: ``smoke``, ``quick`` or ``full``, given to the kernel as ``$DLPY_PROFILE``.
        build: the folder for the executed notebook, its HTML, its kernel log and ``results.json``.
        timeout: seconds each cell may run (``None``: no limit).
        html: also write an HTML copy.
        progress: show the running cell and the time so far (:class:`CellProgress`).
        stop: the :class:`StopSignals` of the run: a Ctrl-C or SIGTERM stops this notebook, shuts its
            kernel down and gives ``stopped=True``.

    Example::

        result = execute(Path("notebooks/05_first_convnet.ipynb"), "smoke", Path("build"), timeout=600)

    Taught in chapter 01 (running the course).
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    notebook = nbformat.read(path, as_version=4)
    build.mkdir(parents=True, exist_ok=True)
    code_cells = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    shown = CellProgress(len(code_cells)) if progress else None
    running = {"index": None}

    def on_cell_start(cell, cell_index):
        running["index"] = cell_index
        if shown is not None and cell_index in code_cells:
            shown.cell(code_cells.index(cell_index) + 1)

    previous = dict(os.environ)
    os.environ.update(_kernel_env(profile, build))  # the kernel inherits this process's environment
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", on_cell_start=on_cell_start,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.time()
    error, stopped, outcome = "", False, {}
    log_path = build / f"{path.stem}.kernel.log"
    kernel_log = open(log_path, "w")  # the kernel's own stderr, off the progress lines

    def run():
        try:
            client.execute(stderr=kernel_log)
        except BaseException as failure:  # reported by the main thread below
            outcome["failure"] = failure

    # The notebook runs in a worker thread, so that signals stay with this (main) thread: nbclient then
    # installs no handlers of its own, and a Ctrl-C or SIGTERM stops the run here, not just one cell.
    worker = threading.Thread(target=run, name=f"dlpy run {path.stem}", daemon=True)
    try:
        worker.start()
        while worker.is_alive():
            worker.join(0.2)
    except KeyboardInterrupt:
        stopped = True
        by = stop.signal if stop is not None and stop.signal else "Ctrl-C"
        error = _describe_cell(notebook, running["index"], code_cells, f"stopped by {by}")
        deadline = time.time() + 60
        while worker.is_alive() and time.time() < deadline:  # the kernel may still be starting: kill it once up
            _shut_down(client)
            worker.join(0.5)
    finally:
        _shut_down(client)
        if shown is not None:
            shown.close()
        kernel_log.close()
        os.environ.clear()
        os.environ.update(previous)
    failure = outcome.get("failure")
    if stopped or failure is None:
        pass
    elif isinstance(failure, CellTimeoutError):
        error = _describe_cell(notebook, running["index"], code_cells,
                               f"timeout: it ran longer than {timeout} s (raise `dlpy run --timeout`, or run the "
                               f"chapter in a smaller profile); the kernel's messages: {log_path}")
    elif isinstance(failure, DeadKernelError):
        error = _describe_cell(notebook, running["index"], code_cells,
                               f"the kernel died (out of memory? a crash in native code?): see {log_path}"
                               + _tail(log_path))
    elif isinstance(failure, CellExecutionError):
        stopped = stop is not None and stop.signal is not None  # a Ctrl-C in a terminal reaches the kernel too
        error = _describe_failure(notebook, failure, code_cells, running["index"])
    else:  # the kernel could not start, etc.
        error = f"{type(failure).__name__}: {failure} (the kernel's messages: {log_path})"
    seconds = time.time() - start
    executed = build / path.name
    nbformat.write(notebook, executed)
    if html and not stopped:
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter().from_notebook_node(notebook)
        executed.with_suffix(".html").write_text(body)
    from dlpy.course.notebooks import printed_warnings

    return RunResult(path, not error, seconds, executed, error, printed_warnings(notebook), stopped)


def _shut_down(client) -> None:
    """Kill the notebook's kernel process if it still runs, whatever state the run ended in (nbclient
    shuts it down itself when the notebook ends normally): no kernel is left behind."""
    manager = getattr(client, "km", None)
    process = getattr(getattr(manager, "provisioner", None), "process", None)
    if process is not None and process.poll() is None:
        process.kill()
        process.wait(10)


def _tail(path: Path, lines: int = 5) -> str:
    try:
        last = [line for line in path.read_text(errors="replace").splitlines() if line.strip()][-lines:]
    except OSError:
        return ""
    return "".join(f"\n    | {line}" for line in last)


def _describe_cell(notebook, index, code_cells, what: str) -> str:
    if index is None:
        return what
    number = code_cells.index(index) + 1 if index in code_cells else "?"
    lines = [f"cell {index} (code cell {number} of {len(code_cells)}): {what}"]
    lines += ["    " + line for line in notebook.cells[index].source.splitlines()[:15]]
    return "\n".join(lines)


def _describe_failure(notebook, failure, code_cells, index) -> str:
    """A failing cell, found by its error output (else the cell that was running), as
    :func:`_describe_cell` writes it, with the error's name and message."""
    for number, cell in enumerate(notebook.cells):
        error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
        if cell.cell_type == "code" and error is not None:
            return _describe_cell(notebook, number, code_cells, f"{error.get('ename')}: {error.get('evalue')}")
    text = str(failure).strip()
    return _describe_cell(notebook, index, code_cells, text.splitlines()[-1] if text else type(failure).__name__)
