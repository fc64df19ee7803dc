"""Deep learning for sequences (the book's chapter on text and timeseries): attention and the
Transformer encoder (``attention``), TF-IDF bags of words (``text``), forecasting windows, season-
spanning splits and the common-sense baseline (``timeseries``).

Modules are imported on first use: ``from dlpy.sequences import attention``.
"""

from dlpy import lazy_submodules

__getattr__ = lazy_submodules(__name__)
