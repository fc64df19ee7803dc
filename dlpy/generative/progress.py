"""Progress of the iterative image algorithms (DeepDream, style transfer, fast style training):
Keras's own progress bar, the losses of every step, and snapshots of the image as it changes.
Taught in chapters 18 and 19.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from dlpy.course.arguments import integer_at_least
from dlpy.course.settings import in_jupyter, interactive_verbosity
from dlpy.images import to_uint8


@dataclass(frozen=True)
class Display:
    """How an iterative algorithm shows its progress (see :class:`Progress`): ``verbose`` (``None``:
    ``cfg.verbose``; 0: nothing; 1: a live bar; 2: one line every ``every`` steps),
    ``every`` and ``snapshot_every`` steps (``None``: the algorithm's default), a ``label`` printed
    first, and ``live``: the latest image shown in place in Jupyter. Taught in chapter 18.

    ``dream(photo, display=Display(verbose=0, live=False))`` runs silently (:data:`QUIET`)."""

    verbose: int | None = None
    every: int | None = None
    snapshot_every: int | None = None
    label: str = ""
    live: bool = True

    def __post_init__(self):
        if self.verbose not in (None, 0, 1, 2):
            raise ValueError(f"verbose is None, 0, 1 or 2 (Keras's convention), got {self.verbose!r}.")
        for name in ("every", "snapshot_every"):
            value = getattr(self, name)
            if value is not None:
                integer_at_least(name, value, unit=" number of steps (or None)")

    def progress(self, total: int, every: int | None = None, snapshot_every: int | None = None) -> Progress:
        """A :class:`Progress` of ``total`` steps; ``every`` and ``snapshot_every`` are the defaults of
        the algorithm, used where this display leaves them ``None``."""
        return Progress(total, self.every or every, self.snapshot_every or snapshot_every, label=self.label,
                        live=self.live, verbose=self.verbose)


QUIET = Display(verbose=0, live=False)


class Progress:
    """Progress of an iterative algorithm of ``total`` steps.

    Shows a ``keras.utils.Progbar`` with the current losses (``verbose=1``: one updating bar;
    ``verbose=2``: one line every ``every`` steps; ``0`` or ``False``: nothing; ``None`` or ``True``:
    ``cfg.verbose``), keeps every step's losses in :attr:`history`, the image every
    ``snapshot_every`` steps in :attr:`snapshots` and, in Jupyter with ``live``, shows the latest
    image in place. ``Progress(total=300, every=100)``; ``progress.update(step, image, loss=...)``.
    Taught in chapters 18 and 19.
    """

    def __init__(self, total: int, every: int | None = None, snapshot_every: int | None = None,
                 label: str = "", live: bool = True, verbose: int | bool | None = None):
        self.total = int(total)
        if self.total < 1:
            raise ValueError(f"total must be at least 1 step, got {total!r}.")
        self.every = max(1, int(every or max(1, self.total // 4)))
        self.snapshot_every = max(1, int(snapshot_every or self.every))
        self.label = label
        if verbose is None or verbose is True:
            verbose = interactive_verbosity()
        self.verbose = int(verbose)
        self.live = live and self.verbose > 0 and in_jupyter()
        self.snapshots: list[tuple[int, np.ndarray]] = []
        self.history: dict[str, list[float]] = {}
        self.started = time.perf_counter()
        self.seconds = 0.0
        self._bar = None
        self._handle = None

    def update(self, step: int, image=None, **losses) -> None:
        """Record step ``step`` (1-based) with its losses; show progress and snapshot when due."""
        for key, value in losses.items():
            self.history.setdefault(key, []).append(float(value))
        self.seconds = time.perf_counter() - self.started
        last = step == self.total
        if image is not None and (step % self.snapshot_every == 0 or last):
            snapshot = to_uint8(image)
            self.snapshots.append((step, snapshot))
            if self.live:
                self._show(snapshot)
        if self.verbose == 1 or (self.verbose == 2 and (step % self.every == 0 or last)):
            self._progress_bar(list(losses)).update(step, [(k, float(v)) for k, v in losses.items()],
                                                    finalize=last or self.verbose == 2)

    @property
    def steps_per_second(self) -> float:
        steps = len(next(iter(self.history.values()), []))
        return steps / max(self.seconds, 1e-9)

    def _progress_bar(self, names):
        if self._bar is None:
            import keras

            if self.label:
                print(f"{self.label}:")
            self._bar = keras.utils.Progbar(self.total, verbose=self.verbose, stateful_metrics=names,
                                            unit_name="step")
        return self._bar

    def _show(self, snapshot: np.ndarray) -> None:
        from IPython.display import display
        from PIL import Image

        picture = Image.fromarray(snapshot)
        if self._handle is None:
            self._handle = display(picture, display_id=True)
        else:
            self._handle.update(picture)
