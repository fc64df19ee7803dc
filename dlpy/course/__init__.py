"""The course machinery: profiles and seeds (``settings``), the results table (``results``), the
notebooks as files (``notebooks``), executing them (``runner``), the ``dlpy`` command (``cli``) and
the argument checks every part shares (``arguments``).

Nothing here imports TensorFlow at module level: the ``dlpy`` command starts fast.
"""

from dlpy import lazy_submodules

__getattr__ = lazy_submodules(__name__)
