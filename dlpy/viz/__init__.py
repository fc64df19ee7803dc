"""Visualizing what convnets learn (chapters 08-11): one API for any Keras 3 image model.

Submodules are imported on first use: ``from dlpy.viz import gradcam`` or ``dlpy.viz.gradcam``.
Layers are addressed as in :mod:`dlpy.layers` (names or dotted paths through nested models).
"""

import importlib


def __getattr__(name):
    try:
        return importlib.import_module(f"dlpy.viz.{name}")
    except ModuleNotFoundError as error:
        if error.name == f"dlpy.viz.{name}":
            raise AttributeError(f"module 'dlpy.viz' has no attribute {name!r}") from None
        raise
