"""The course's results table: each chapter files its headline figures with :func:`record`.

Records live in ``build/results.json`` (or ``$DLPY_BUILD_DIR/results.json``), one row per
(chapter, metric, profile); recording again replaces the row.
"""

from __future__ import annotations

import fcntl
import json
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


def load_results(path: Path | None = None) -> list[dict]:
    path = Path(path) if path else results_path()
    if not path.exists():
        return []
    with open(path) as f:
        return json.load(f)


def record(metric: str, value, *, book=None, note: str = "", chapter: str | None = None) -> dict:
    """File one headline figure of this chapter in the results table and return the row.

    ``book`` is the value the book publishes for the same experiment (``None`` if it gives none).
    The chapter, profile, device and the notebook's wall time so far come from :func:`dlpy.setup`.
    """
    settings = current_settings()
    if settings is None and chapter is None:
        raise RuntimeError("Call dlpy.setup(chapter) before dlpy.record(...), or pass chapter=...")
    try:
        value = float(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"record({metric!r}, ...) needs a number, got {value!r}") from error
    row = {
        "chapter": chapter or settings.chapter,
        "metric": metric,
        "value": value,
        "book": None if book is None else float(book),
        "profile": settings.profile if settings else os.environ.get("DLPY_PROFILE", "?"),
        "device": settings.device if settings else "?",
        "wall_time_s": round(settings.elapsed, 1) if settings else None,
        "note": note,
        "recorded_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    path = results_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # notebooks may run in parallel (pytest -n)
        rows = [
            r for r in load_results(path)
            if (r["chapter"], r["metric"], r["profile"]) != (row["chapter"], metric, row["profile"])
        ]
        rows.append(row)
        rows.sort(key=lambda r: (r["chapter"], r["profile"], r["metric"]))
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(rows, f, indent=1)
        os.replace(tmp, path)
    print(f"recorded {row['chapter']} {metric} = {value:.4g}" + (f" (book: {book})" if book is not None else ""))
    return row


def format_table(rows: list[dict]) -> str:
    """The results table as aligned text."""
    if not rows:
        return "No results yet: run a chapter with `dlpy run`."
    header = ["chapter", "metric", "value", "book", "profile", "device", "wall s"]
    lines = [
        [r["chapter"], r["metric"], f"{r['value']:.4g}", "" if r["book"] is None else f"{r['book']:.4g}",
         r["profile"], r["device"], "" if r["wall_time_s"] is None else f"{r['wall_time_s']:.0f}"]
        for r in rows
    ]
    widths = [max(len(str(x)) for x in column) for column in zip(header, *lines)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(str(c).ljust(w) for c, w in zip(line, widths)) for line in lines]
    return "\n".join(out)
