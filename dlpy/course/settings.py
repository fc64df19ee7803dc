"""Profiles, seeding and the banner: what ``dlpy.setup()`` does in the first cell of every notebook."""

from __future__ import annotations

import contextlib
import os
import random
import sys
import time
import warnings
from dataclasses import dataclass, field

PROFILES = ("smoke", "quick", "full")
PROFILE_HELP = {
    "smoke": "CI: seconds to a minute or two per notebook",
    "quick": "a CPU in minutes, results that still mean something",
    "full": "the book's settings, for a GPU",
}
DEFAULT_SEED = 1337

_current: Settings | None = None


@dataclass(frozen=True)
class Settings:
    """What a notebook needs to know about its run. Returned by :func:`setup`."""

    chapter: str
    profile: str
    seed: int
    device: str
    started_at: float = field(default_factory=time.time)

    def pick(self, *, smoke, quick, full):
        """Return the value for the current profile: ``epochs = cfg.pick(smoke=1, quick=4, full=20)``."""
        return {"smoke": smoke, "quick": quick, "full": full}[self.profile]

    @property
    def verbose(self) -> int:
        """Keras's ``verbose`` for ``fit`` and the course's iterative algorithms: 1 (a live progress
        bar) in an interactive notebook, 2 (one line per epoch) in headless runs (``dlpy run``, CI)."""
        return interactive_verbosity()

    @property
    def strategy(self):
        """The process's ``tf.distribute`` strategy (:mod:`dlpy.course.strategy`): build models inside
        ``with cfg.strategy.scope():`` to train on every GPU (one device: a no-op scope)."""
        from dlpy.course.strategy import distribution_strategy

        return distribution_strategy()

    @property
    def elapsed(self) -> float:
        """Seconds since :func:`setup` was called (the notebook's wall time so far)."""
        return time.time() - self.started_at


def resolve_profile(profile: str | None = None, gpu_available: bool | None = None) -> str:
    """The argument, else ``$DLPY_PROFILE``, else ``full`` on a GPU and ``quick`` on a CPU."""
    chosen = profile or os.environ.get("DLPY_PROFILE") or None
    if chosen is None:
        if gpu_available is None:
            gpu_available = bool(_gpus())
        chosen = "full" if gpu_available else "quick"
    chosen = chosen.strip().lower()
    if chosen not in PROFILES:
        raise ValueError(
            f"Unknown profile {chosen!r}. Choose one of {', '.join(PROFILES)} "
            "(set DLPY_PROFILE or pass profile=...)."
        )
    return chosen


def interactive_verbosity() -> int:
    """1 in an interactive Jupyter kernel, 2 in a headless run (``$DLPY_HEADLESS`` set, as ``dlpy run``
    and ``pytest`` do) or outside Jupyter: Keras's progress bar where a person watches, one line per
    epoch where a log is kept."""
    return 2 if os.environ.get("DLPY_HEADLESS") or not in_jupyter() else 1


def in_jupyter() -> bool:
    """True inside a Jupyter kernel (a notebook, interactive or executed headless)."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return type(shell).__name__ == "ZMQInteractiveShell"


def seed_everything(seed: int = DEFAULT_SEED) -> int:
    """Seed Python's ``random``, NumPy, TensorFlow and Keras with one call."""
    import keras
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)  # Python, NumPy and the TensorFlow global seed
    return seed


@contextlib.contextmanager
def quiet_native_stderr():
    """Hide what C++ code writes straight to file descriptor 2 (TensorFlow's CUDA probing lines
    that ignore ``TF_CPP_MIN_LOG_LEVEL``); Python's own ``sys.stderr`` writes are unaffected after."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _gpus():
    with quiet_native_stderr():  # the first import and device probe print CUDA noise on a CPU machine
        import tensorflow as tf

        return tf.config.list_physical_devices("GPU")


def describe_device() -> str:
    """A short human description of where TensorFlow will run, e.g. ``CPU (2 cores)``."""
    gpus = _gpus()
    if gpus:
        import tensorflow as tf

        names = []
        for gpu in gpus:
            details = tf.config.experimental.get_device_details(gpu)
            names.append(details.get("device_name", gpu.name))
        return "GPU: " + ", ".join(names)
    return f"CPU ({os.cpu_count()} cores)"


def default_jit_compile():
    """XLA (``"auto"``) on a GPU; off on a CPU, where it makes the course's small convolutional
    models slower (measured 1.3-2.5x here). The VAE, GAN and PixelCNN use it as their
    ``compile(jit_compile=...)`` default. Taught in chapter 20."""
    return "auto" if _gpus() else False


def _enable_gpu_memory_growth() -> None:
    import tensorflow as tf

    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # already initialized: growth can only be set before first use
            pass


def _style_matplotlib() -> None:
    import matplotlib as mpl

    mpl.rcParams.update(
        {
            "figure.figsize": (7, 4),
            "figure.dpi": 100,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "image.cmap": "viridis",
            "legend.frameon": False,
        }
    )


def setup(chapter: str = "interactive", profile: str | None = None, seed: int = DEFAULT_SEED,
          quiet: bool = False) -> Settings:
    """Prepare a notebook: pick the profile, seed everything, enable GPU memory growth,
    style matplotlib and print one banner line.

    ``chapter`` is the notebook's name without ``.ipynb`` (``"01_imdb"``); results recorded with
    :func:`dlpy.record` are filed under it.
    """
    global _current
    from dlpy.course.strategy import split_cpu_if_asked

    _gpus()  # first TensorFlow import, quietly
    split_cpu_if_asked()  # before TensorFlow runs anything (DLPY_LOGICAL_CPUS)
    import keras
    import tensorflow as tf

    import dlpy

    _enable_gpu_memory_growth()
    # Keras 3.15 warns on every fit(<tf.data.Dataset>) because fit's default shuffle=True does not
    # apply to a dataset (it shuffles itself, e.g. dlpy.data.pipelines): harmless, keep it out of notebooks.
    warnings.filterwarnings("ignore", message=r"`shuffle=True` was passed, but will be ignored",
                            category=UserWarning)
    chosen = resolve_profile(profile)
    seed_everything(seed)
    _style_matplotlib()
    settings = Settings(chapter=chapter, profile=chosen, seed=seed, device=describe_device())
    _current = settings
    if not quiet:
        print(
            f"dlpy {dlpy.__version__} | Keras {keras.__version__} | TensorFlow {tf.__version__} | "
            f"{settings.device} | profile: {chosen} ({PROFILE_HELP[chosen]}) | seed: {seed}"
        )
    return settings


def current_settings() -> Settings | None:
    """The settings of the last :func:`setup` call in this process, or ``None``."""
    return _current
