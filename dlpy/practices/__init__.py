"""Best practices for getting the most out of models (chapter 16): ``ensembles`` of diverse models
with weights chosen on validation data, ``precision`` (the mixed-precision policy the hardware gains
from, and its measured speed), ``mirrored_check`` (mirrored training equals single-device training).

Modules are imported on first use: ``from dlpy.practices import ensembles``.
"""

from dlpy import lazy_submodules

__getattr__ = lazy_submodules(__name__)
