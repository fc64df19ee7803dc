"""dlpy: the companion package of the *Deep Learning with Python* notebook course.

Every notebook starts with::

    import dlpy
    cfg = dlpy.setup("01_imdb")          # profile, seeds, banner
    epochs = cfg.pick(smoke=1, quick=4, full=20)

Submodules (``dlpy.data``, ``dlpy.plots``, ``dlpy.viz`` ...) are imported on first use so that
``import dlpy`` stays fast and the ``dlpy`` command does not load TensorFlow.
"""

import importlib
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up chatter out of notebooks
# oneDNN's CPU kernels (fused convolutions): TensorFlow turns them on by itself only on CPUs with
# AVX-512 VNNI/BF16 or AMX, yet on an AVX2 CPU they run MobileNet ~1.4x faster. Set it to 0 to opt out.
# It must be set before TensorFlow is imported: import dlpy first.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

__version__ = "0.1.0"

from dlpy.results import record  # noqa: E402
from dlpy.settings import PROFILES, Settings, current_settings, seed_everything, setup  # noqa: E402

_SUBMODULES = {
    "data", "plots", "training", "layers", "models", "viz",
    "text", "dream", "style", "vae", "gan", "pixelcnn", "notebooks", "results", "settings", "inference",
}


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"dlpy.{name}")
    raise AttributeError(f"module 'dlpy' has no attribute {name!r}")


__all__ = ["PROFILES", "Settings", "current_settings", "record", "seed_everything", "setup", "__version__"]
