"""Visualizing what convnets learn (chapters 08-11): one API for any Keras 3 image model.

Modules are imported on first use: ``from dlpy.viz import gradcam`` or ``dlpy.viz.gradcam``.
Layers are addressed as in :mod:`dlpy.models.introspection` (names or dotted paths through nested models).
"""

from dlpy import lazy_submodules

__getattr__ = lazy_submodules(__name__)
