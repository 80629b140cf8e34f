"""The model zoo: ``build_model(spec, in_shape, num_classes)`` from a config mapping.

Every model is a :class:`~pointwise.models.base.ProbedModel` whose classifier is the Linear
``model.head``. ``FAMILIES`` maps each family to its accepted config keys and their defaults
(``pointwise.config`` validates ``archs.*`` against it). Supported input resolutions:

| family | input | resolutions |
|---|---|---|
| mlp | any shape (flattened) | any |
| resnet_cifar | (C, H, W) | any (global average pool) |
| resnet18 | (C, H, W) | any (global average pool) |
| vgg | (C, H, W) | side >= 2**pools (named plans: 16 with head avgpool, 32 with head flatten) |
| densenet121 | (C, H, W) | side >= 8 |
| small_cnn | (C, H, W) | side >= 2**len(widths) |

Initialisation is PyTorch's default except where ``init: openlth`` is set (resnet_cifar, vgg:
kaiming-normal convs/linears, BN weight ~ U(0,1); paper 003's OpenLTH protocol, spec 003 §4-5).
Published weights in another library's format (torchvision's ImageNet ResNet-18: ``resnet18``
with ``stem: imagenet``) load through :mod:`pointwise.models.import_weights`.
"""
from __future__ import annotations

from collections.abc import Mapping

from torch import nn

from .base import ProbedModel
from .densenet import DenseNet
from .mlp import MLP
from .resnet18 import ResNet18
from .resnet_cifar import CifarResNet
from .small_cnn import SmallCNN
from .vgg import VGG

__all__ = ["FAMILIES", "ProbedModel", "build_model", "count_parameters", "head_parameter_names"]

FAMILIES: dict[str, dict] = {
    "mlp": {"depth": 7, "width": 2048, "probe_every_op": False, "init": "pytorch"},
    "resnet_cifar": {"depth": 20, "width": 16, "init": "pytorch"},
    "resnet18": {"norm": "batch", "width": 1.0, "probe_every_conv": False, "stem": "cifar"},
    "vgg": {"depth": 16, "width": 64, "batch_norm": True, "head": "avgpool", "plan": None,
            "init": "pytorch"},
    "densenet121": {"growth": 32},
    "small_cnn": {"widths": [16, 32, 64], "norm": "batch", "convs_per_stage": 1},
}

_CLASSES = {"mlp": MLP, "resnet_cifar": CifarResNet, "resnet18": ResNet18, "vgg": VGG,
            "densenet121": DenseNet, "small_cnn": SmallCNN}


def build_model(spec: Mapping, in_shape: tuple[int, int, int], num_classes: int) -> ProbedModel:
    """The model described by ``spec`` ({"family": ..., family keys...}; omitted keys take the
    ``FAMILIES`` defaults) for inputs of shape ``in_shape`` (without batch) and ``num_classes``
    outputs. ValueError on an unknown family, an unknown key, or an invalid value."""
    family = spec.get("family")
    if family not in FAMILIES:
        raise ValueError(f"unknown model family {family!r} (valid: {', '.join(FAMILIES)})")
    defaults = FAMILIES[family]
    unknown = sorted(set(spec) - set(defaults) - {"family"})
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} for model family '{family}' "
                         f"(valid: {', '.join(sorted(defaults))})")
    if family == "vgg" and spec.get("plan") is not None and {"depth", "width"} & set(spec):
        raise ValueError("vgg: give either 'plan' or 'depth'/'width', not both")
    kwargs = {**defaults, **{k: v for k, v in spec.items() if k != "family"}}
    return _CLASSES[family](tuple(in_shape), int(num_classes), **kwargs)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def head_parameter_names(model: nn.Module) -> list[str]:
    """Names (as in ``named_parameters``) of the final classifier's parameters, i.e. those to
    re-initialise or train alone when fine-tuning a pretrained model."""
    return [n for n, _ in model.named_parameters() if n.split(".", 1)[0] == "head"]
