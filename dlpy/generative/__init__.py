"""Generative deep learning (chapters 17-21): character-level text generation, DeepDream, neural
style transfer and fast style transfer, variational autoencoders, GANs and PixelCNN.

Modules are imported on first use: ``from dlpy.generative import vae`` or ``dlpy.generative.vae``.
"""

from dlpy import lazy_submodules

__getattr__ = lazy_submodules(__name__)
