"""The Keras workflow (chapter 14): a callback that keeps the loss of every batch, a custom metric,
a model that writes its own ``train_step``/``test_step``, and a reader of TensorBoard's event
files, so that a headless run shows the same curves TensorBoard would.

Modules are imported on first use: ``from dlpy.workflow import tensorboard``.
"""

from dlpy import lazy_submodules

__getattr__ = lazy_submodules(__name__)
