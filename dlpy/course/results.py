"""The course's results table: each chapter files its headline figures with :func:`record`.

Records live in ``build/results.json`` (or ``$DLPY_BUILD_DIR/results.json``), one row per
(chapter, metric, profile); recording again replaces the row.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import tempfile
import time
from pathlib import Path

from dlpy.course.settings import current_settings


def repo_root() -> Path | None:
    """The course checkout this package was installed from (editable install), if any."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").exists() and (root / "notebooks").is_dir() else None


def build_dir() -> Path:
    """``$DLPY_BUILD_DIR``, else ``build/`` in the course checkout, else ``./build``."""
    if os.environ.get("DLPY_BUILD_DIR"):
        return Path(os.environ["DLPY_BUILD_DIR"])
    root = repo_root()
    return (root if root else Path.cwd()) / "build"


def results_path() -> Path:
    return build_dir() / "results.json"


class ResultsFileError(ValueError):
    """``build/results.json`` cannot be read as the course's results table."""


REQUIRED = ("chapter", "metric", "value", "book", "profile", "device", "wall_time_s")

# Chapters that were renumbered when chapters 12-16 (sequences, Keras, architectures, best practices)
# arrived: rows an older run filed under the old name are read under the new one.
RENUMBERED = {
    "12_text_generation": "17_text_generation",
    "13_deepdream": "18_deepdream",
    "14_style_transfer": "19_style_transfer",
    "15_vae": "20_vae",
    "16_dcgan": "21_dcgan",
}


def load_results(path: Path | None = None) -> list[dict]:
    """The rows of the results table (``[]`` when there is none yet); a damaged file is a
    :class:`ResultsFileError` that names it and says what to do."""
    path = Path(path) if path else results_path()
    if not path.exists():
        return []
    try:
        rows = json.loads(path.read_text())
        problem = None if isinstance(rows, list) else f"it holds a {type(rows).__name__}, not a list of rows"
        for index, row in enumerate(rows if problem is None else []):
            missing = [key for key in REQUIRED if not isinstance(row, dict) or key not in row]
            if missing:
                problem = f"row {index} lacks {', '.join(missing)}"
                break
    except (OSError, UnicodeDecodeError, ValueError) as error:
        problem = f"it is not valid JSON ({error})"
    if problem:
        raise ResultsFileError(f"The results table {path} is damaged: {problem}. Move it aside (mv '{path}' "
                               f"'{path}.bak'); the next dlpy.record or `dlpy run` starts a new one.")
    if any(row["chapter"] in RENUMBERED for row in rows):
        newest = {}
        for row in sorted(rows, key=lambda r: r.get("recorded_at", "")):
            row["chapter"] = RENUMBERED.get(row["chapter"], row["chapter"])
            newest[row["chapter"], row["metric"], row["profile"]] = row
        rows = sorted(newest.values(), key=lambda r: (r["chapter"], r["profile"], r["metric"]))
    return rows


def _set_aside(path: Path, error: ResultsFileError) -> Path:
    """Rename a damaged results table out of the way (nothing is deleted) and say so."""
    kept = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    os.replace(path, kept)
    print(f"warning: {str(error).split(' Move it aside')[0]} It was kept as {kept}; a new table starts here.")
    return kept


def record(metric: str, value, *, book=None, note: str = "", chapter: str | None = None) -> dict:
    """File one headline figure of this chapter in the results table and return the row.

    ``book`` is the value the book publishes for the same experiment (``None`` if it gives none).
    The chapter, profile, device and the notebook's wall time so far come from :func:`dlpy.setup`.
    A value that is not finite (NaN, infinity: a diverged run) is stored as ``null`` with its text
    in the note, so that the file stays strict JSON. Taught in chapter 01.
    """
    settings = current_settings()
    if settings is None and chapter is None:
        raise RuntimeError("Call dlpy.setup(chapter) before dlpy.record(...), or pass chapter=...")
    if not isinstance(metric, str) or not metric:
        raise TypeError(f"record(metric, value): metric is a non-empty name such as 'test_accuracy', got {metric!r}")
    try:
        value = float(value)
        book = None if book is None else float(book)
    except (TypeError, ValueError) as error:
        raise TypeError(f"record({metric!r}, ...) needs a number as value (and book), got {value!r} (book {book!r}): "
                        "pass a float, e.g. float(history.history['accuracy'][-1]).") from error
    finite = math.isfinite(value)
    book = book if book is None or math.isfinite(book) else None
    row = {
        "chapter": chapter or settings.chapter,
        "metric": metric,
        "value": value if finite else None,
        "book": book,
        "profile": settings.profile if settings else os.environ.get("DLPY_PROFILE", "?"),
        "device": settings.device if settings else "?",
        "wall_time_s": round(settings.elapsed, 1) if settings else None,
        "note": note if finite else f"{value} (not finite) {note}".strip(),
        "recorded_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    path = results_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # notebooks may run in parallel (pytest -n)
        try:
            existing = load_results(path)
        except ResultsFileError as error:
            _set_aside(path, error)
            existing = []
        key = (row["chapter"], metric, row["profile"])
        rows = [r for r in existing if (r["chapter"], r["metric"], r["profile"]) != key]
        rows.append(row)
        rows.sort(key=lambda r: (r["chapter"], r["profile"], r["metric"]))
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(rows, f, indent=1, allow_nan=False)
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
    shown = f"{value:.4g}" if finite else f"{value} (stored as null)"
    print(f"recorded {row['chapter']} {metric} = {shown}" + (f" (book: {book})" if book is not None else ""))
    return row


def format_table(rows: list[dict]) -> str:
    """The results table as aligned text."""
    if not rows:
        return "No results yet: run a chapter with `dlpy run`."
    header = ["chapter", "metric", "value", "book", "profile", "device", "wall s"]
    lines = [
        [r["chapter"], r["metric"], "n/a" if r["value"] is None else f"{r['value']:.4g}",
         "" if r["book"] is None else f"{r['book']:.4g}",
         r["profile"], r["device"], "" if r["wall_time_s"] is None else f"{r['wall_time_s']:.0f}"]
        for r in rows
    ]
    widths = [max(len(str(x)) for x in column) for column in zip(header, *lines)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(str(c).ljust(w) for c, w in zip(line, widths)) for line in lines]
    return "\n".join(out)
