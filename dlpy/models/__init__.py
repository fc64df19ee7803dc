"""Models: pretrained ImageNet backbones (``backbones``), the course's convnets (``convnets``),
finding layers and reading their outputs (``introspection``) and BatchNormalization folded into
convolutions for inference (``batchnorm_folding``)."""

from dlpy import lazy_submodules
from dlpy.models.backbones import BACKBONES, Backbone, available_backbones, load_backbone, preferred_backbone

__all__ = ["BACKBONES", "Backbone", "available_backbones", "load_backbone", "preferred_backbone"]
__getattr__ = lazy_submodules(__name__)
