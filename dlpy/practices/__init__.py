"""Best practices for getting the most out of models (chapter 16): ensembles of diverse models,
with weights chosen on validation data.

Modules are imported on first use: ``from dlpy.practices import ensembles``.
"""

from dlpy import lazy_submodules

__getattr__ = lazy_submodules(__name__)
