"""dlpy: the companion package of the *Deep Learning with Python* notebook course.

Every notebook starts with::

    import dlpy
    cfg = dlpy.setup("01_imdb")          # profile, seeds, banner
    epochs = cfg.pick(smoke=1, quick=4, full=20)

The package, by concern (dependencies run one way, top to bottom)::

    dlpy.course      settings, results, checks (rel_error), notebooks, runner, cli: the course machinery
    dlpy.data        the registry of data files and one loader per dataset
    dlpy.models      backbones, convnet builders, modern blocks and their cost, introspection, BatchNorm folding
    dlpy.images      checking, batching, resizing and tiling images
    dlpy.plots       training curves and image grids
    dlpy.training    K-fold validation and resumable training
    dlpy.viz         visualizing what convnets learn (chapters 08-11)
    dlpy.generative  text generation, DeepDream, style transfer, VAE, GAN, PixelCNN (chapters 17-21)
    dlpy.sequences   attention, the Transformer encoder, forecasting windows (text and timeseries)
    dlpy.workflow    callbacks, custom metrics and training steps, TensorBoard read back (chapter 14)
    dlpy.practices   ensembles, mixed precision, the mirrored-training check (chapter 16)

Subpackages and modules are imported on first use (``dlpy.viz.gradcam``) so that ``import dlpy``
stays fast and the ``dlpy`` command does not load TensorFlow.
"""

import importlib
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up chatter out of notebooks
# oneDNN's CPU kernels (fused convolutions): TensorFlow turns them on by itself only on CPUs with
# AVX-512 VNNI/BF16 or AMX, yet on an AVX2 CPU they run MobileNet ~1.4x faster. Set it to 0 to opt out.
# It must be set before TensorFlow is imported: import dlpy first.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

__version__ = "0.1.0"


def lazy_submodules(package: str):
    """A module-level ``__getattr__`` for ``package`` that imports its submodules on first use, so
    that no package keeps a list of them by hand: ``__getattr__ = lazy_submodules(__name__)``."""

    def __getattr__(name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return importlib.import_module(f"{package}.{name}")
        except ModuleNotFoundError as error:
            if error.name == f"{package}.{name}":
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
            raise

    return __getattr__


__getattr__ = lazy_submodules(__name__)

from dlpy.course.checks import rel_error  # noqa: E402
from dlpy.course.results import record  # noqa: E402
from dlpy.course.settings import PROFILES, Settings, current_settings, seed_everything, setup  # noqa: E402

__all__ = ["PROFILES", "Settings", "current_settings", "lazy_submodules", "record", "rel_error", "seed_everything",
           "setup", "__version__"]
