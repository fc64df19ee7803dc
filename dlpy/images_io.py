"""Small helpers the image-optimisation chapters share: checking and resizing one RGB image, and a
compact progress report (one line every N steps, the latest image updated in place in Jupyter).

Images are float32 ``(H, W, 3)`` arrays in RGB 0-255, as :func:`dlpy.data.load_image` returns them;
each backbone's ``preprocess`` runs inside the compiled steps. Taught in chapters 13 and 14.
"""

from __future__ import annotations

import time

import numpy as np
import tensorflow as tf


def check_image(image, name: str = "image") -> tf.Tensor:
    """``image`` as a float32 tensor of shape ``(H, W, 3)``; a clear error for any other rank or depth.

    Taught in chapter 13."""
    shape = tuple(np.shape(image))
    if len(shape) != 3:
        hint = " (a batch of one? pass image[0])" if len(shape) == 4 and shape[0] == 1 else ""
        raise ValueError(f"{name} must be one RGB image of shape (height, width, 3), got shape {shape}{hint}.")
    if shape[-1] != 3:
        raise ValueError(f"{name} must have 3 colour channels (RGB), got shape {shape}.")
    if min(shape[:2]) < 8:
        raise ValueError(f"{name} is too small ({shape[0]}x{shape[1]}): use at least 8x8 pixels.")
    return tf.convert_to_tensor(image, dtype=tf.float32)


def resize(image, size) -> tf.Tensor:
    """Bilinear resize of an ``(H, W, 3)`` image to ``size=(height, width)``. Taught in chapter 13."""
    return tf.image.resize(check_image(image), tuple(int(s) for s in size))


def scaled_size(image, scale: float) -> tuple[int, int]:
    """``(H, W)`` of ``image`` times ``scale``, at least 8 pixels each. Taught in chapter 14."""
    height, width = np.shape(image)[:2]
    return max(8, round(height * scale)), max(8, round(width * scale))


def to_uint8(image) -> np.ndarray:
    """A displayable ``uint8`` copy of an RGB 0-255 image. Taught in chapter 13."""
    return np.clip(np.asarray(image), 0, 255).round().astype("uint8")


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class Progress:
    """Progress of an iterative algorithm: one line every ``every`` steps (step, losses, steps/s),
    the image kept every ``snapshot_every`` steps, and in Jupyter the latest image updated in place.

    ``Progress(total=300, every=100)``; ``progress.update(step, image, loss=..., style=...)``.
    Taught in chapters 13 and 14.
    """

    def __init__(self, total: int, every: int | None = None, snapshot_every: int | None = None,
                 label: str = "", live: bool = True, verbose: bool = True):
        self.total = int(total)
        self.every = max(1, int(every or max(1, self.total // 4)))
        self.snapshot_every = max(1, int(snapshot_every or self.every))
        self.label = f"{label}: " if label else ""
        self.verbose = verbose
        self.live = live and verbose and _in_notebook()
        self.snapshots: list[tuple[int, np.ndarray]] = []
        self.history: dict[str, list[float]] = {}
        self.started = time.perf_counter()
        self.seconds = 0.0
        self._handle = None

    def update(self, step: int, image=None, **losses) -> None:
        """Record step ``step`` (1-based) with its losses; print and snapshot when due."""
        for key, value in losses.items():
            self.history.setdefault(key, []).append(float(value))
        self.seconds = time.perf_counter() - self.started
        last = step == self.total
        if image is not None and (step % self.snapshot_every == 0 or last):
            snapshot = to_uint8(image)
            self.snapshots.append((step, snapshot))
            if self.live:
                self._show(snapshot)
        if self.verbose and (step % self.every == 0 or last):
            parts = "  ".join(f"{k} {float(v):.4g}" for k, v in losses.items())
            print(f"{self.label}step {step:>{len(str(self.total))}}/{self.total}  {parts}  "
                  f"{step / max(self.seconds, 1e-9):.1f} steps/s")

    @property
    def steps_per_second(self) -> float:
        steps = len(next(iter(self.history.values()), []))
        return steps / max(self.seconds, 1e-9)

    def _show(self, snapshot: np.ndarray) -> None:
        from IPython.display import display
        from PIL import Image

        picture = Image.fromarray(snapshot)
        if self._handle is None:
            self._handle = display(picture, display_id=True)
        else:
            self._handle.update(picture)
