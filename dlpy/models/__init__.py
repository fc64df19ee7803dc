"""Model builders: pretrained ImageNet backbones (``dlpy.models.backbones``) and the course's small models."""

from dlpy.models.backbones import BACKBONES, Backbone, available_backbones, load_backbone, preferred_backbone

__all__ = ["BACKBONES", "Backbone", "available_backbones", "load_backbone", "preferred_backbone"]
