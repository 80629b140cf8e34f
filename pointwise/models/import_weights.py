"""Published pretrained weights in another library's format, loaded into our models.

``torchvision``: a ResNet-18 ``state_dict`` as ``torch.save(model.state_dict(), path)`` writes it
for ``torchvision.models.resnet18`` (e.g. the ImageNet-1k weights ``resnet18-f37072fd.pth`` that
paper 001's "ImageNet-pretrained PyTorch models" use, spec 001 §4). Its names map onto our
:class:`~pointwise.models.resnet18.ResNet18` with ``stem: imagenet`` (and ``norm: batch``,
``width: 1.0``)::

    conv1.weight                      -> stem.weight
    bn1.*                             -> stem_norm.*
    layer{s}.{b}.conv{1,2}.weight     -> blocks.{2(s-1)+b}.conv{1,2}.weight
    layer{s}.{b}.bn{1,2}.*            -> blocks.{2(s-1)+b}.bn{1,2}.*
    layer{s}.0.downsample.{0,1}.*     -> blocks.{2(s-1)}.shortcut.{0,1}.*
    fc.weight, fc.bias                -> head.weight, head.bias

The file is read with ``torch.load(weights_only=True)`` (tensors only, no pickled code); torchvision
itself is never imported. Every key of the file must map to a tensor of the model with the same
shape and every model tensor must be given (BatchNorm's ``num_batches_tracked`` counters may be
absent: older files lack them), else :class:`WeightsImportError` lists the offending names.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

FORMATS = ("torchvision",)

# the arch (family and keys) each format's weights fit; other keys of the family may differ
_ARCH = {"torchvision": {"family": "resnet18", "stem": "imagenet", "norm": "batch", "width": 1.0}}

_BLOCK = re.compile(r"^layer([1-4])\.([01])\.(conv1|conv2|bn1|bn2|downsample\.[01])\.(.+)$")


class WeightsImportError(ValueError):
    """Pretrained weights that are missing, unreadable or do not fit the model."""


def check_arch(fmt: str, spec: Mapping) -> None:
    """Raise :class:`WeightsImportError` unless weights of format ``fmt`` fit the arch ``spec``
    (a config ``archs.*`` mapping; omitted keys take the family defaults)."""
    from pointwise.models import FAMILIES

    if fmt not in FORMATS:
        raise WeightsImportError(f"unknown weights format '{fmt}' (valid: {', '.join(FORMATS)})")
    want = _ARCH[fmt]
    if spec.get("family") != want["family"]:
        raise WeightsImportError(f"{fmt} weights are a {want['family']}; the arch is a {spec.get('family')}")
    full = {**FAMILIES[want["family"]], **spec}
    bad = {k: full.get(k) for k, v in want.items() if k != "family" and full.get(k) != v}
    if bad:
        raise WeightsImportError(f"{fmt} {want['family']} weights need " +
                                 ", ".join(f"{k}: {want[k]}" for k in bad) +
                                 f" (the arch has {', '.join(f'{k}: {v}' for k, v in bad.items())})")


def torchvision_name(key: str) -> str | None:
    """Our parameter/buffer name for torchvision ResNet-18 name ``key`` (None: no counterpart)."""
    if key.startswith("conv1."):
        return "stem." + key[len("conv1."):]
    if key.startswith("bn1."):
        return "stem_norm." + key[len("bn1."):]
    if key.startswith("fc."):
        return "head." + key[len("fc."):]
    m = _BLOCK.match(key)
    if m is None:
        return None
    s, b, part, rest = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
    part = part.replace("downsample", "shortcut")
    return f"blocks.{2 * (s - 1) + b}.{part}.{rest}"


def pointwise_to_torchvision(name: str) -> str:
    """The torchvision ResNet-18 name of our ``name`` (inverse of :func:`torchvision_name`)."""
    for ours, theirs in (("stem.", "conv1."), ("stem_norm.", "bn1."), ("head.", "fc.")):
        if name.startswith(ours):
            return theirs + name[len(ours):]
    m = re.match(r"^blocks\.(\d+)\.(.+)$", name)
    if m is None:
        return name
    i, rest = int(m.group(1)), m.group(2).replace("shortcut", "downsample")
    return f"layer{i // 2 + 1}.{i % 2}.{rest}"


def read_weights(path, fmt: str = "torchvision") -> dict[str, torch.Tensor]:
    """The tensors of the weights file ``path`` under their original names (``torch.load`` with
    ``weights_only=True``); a ``{"state_dict": ...}`` wrapper is unwrapped."""
    if fmt not in FORMATS:
        raise WeightsImportError(f"unknown weights format '{fmt}' (valid: {', '.join(FORMATS)})")
    p = Path(path)
    if not p.is_file():
        raise WeightsImportError(
            f"pretrained weights file '{path}' does not exist. For torchvision's ImageNet ResNet-18 "
            "save its state_dict there, e.g. download "
            "https://download.pytorch.org/models/resnet18-f37072fd.pth (torchvision's "
            "ResNet18_Weights.IMAGENET1K_V1) on a machine with network access and copy it to this "
            "path (docs/training.md, 'Pretrained weights from a file')")
    try:
        sd = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:                       # pickle/zip errors, non-tensor payloads
        raise WeightsImportError(f"cannot read pretrained weights '{path}' as a state_dict: "
                                 f"{type(exc).__name__}: {exc}") from exc
    if isinstance(sd, Mapping) and "state_dict" in sd and isinstance(sd["state_dict"], Mapping):
        sd = sd["state_dict"]
    if not isinstance(sd, Mapping) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise WeightsImportError(f"pretrained weights '{path}' are not a state_dict (name -> tensor)")
    return dict(sd)


def convert_state_dict(source: Mapping[str, torch.Tensor], model: nn.Module,
                       fmt: str = "torchvision", origin: str = "weights",
                       skip_head: bool = False) -> dict[str, torch.Tensor]:
    """``source`` (names of format ``fmt``) renamed to ``model``'s names, checked against the
    model: every source key maps to a model tensor of the same shape, every model tensor is
    given (except BatchNorm ``num_batches_tracked``). ``skip_head``: the pretrained classifier
    (``fc.*``) is dropped and the model's ``head.*`` is not required (a fresh head for a new
    task, whatever its class count). Raises :class:`WeightsImportError` naming the missing,
    unexpected and mismatched keys (``origin`` names the file in the message)."""
    if fmt not in FORMATS:
        raise WeightsImportError(f"unknown weights format '{fmt}' (valid: {', '.join(FORMATS)})")
    target = model.state_dict()
    if skip_head:
        source = {k: v for k, v in source.items() if not k.startswith("fc.")}
        target = {k: v for k, v in target.items() if not k.startswith("head.")}
    inverse: dict[str, str] = {}
    out: dict[str, torch.Tensor] = {}
    unexpected, mismatched = [], []
    for key, value in source.items():
        name = torchvision_name(key)
        if name is None or name not in target:
            unexpected.append(key)
            continue
        inverse[name] = key
        if tuple(value.shape) != tuple(target[name].shape):
            mismatched.append(f"{key} {tuple(value.shape)} vs {name} {tuple(target[name].shape)}")
            continue
        out[name] = value.to(target[name].dtype)
    missing = [n for n in target if n not in inverse and not n.endswith("num_batches_tracked")]
    if unexpected or missing or mismatched:
        parts = []
        if missing:
            parts.append(f"missing keys {[pointwise_to_torchvision(n) for n in missing]}")
        if unexpected:
            parts.append(f"unexpected keys {sorted(unexpected)}")
        if mismatched:
            parts.append(f"shape mismatches (file vs model) {mismatched}")
        raise WeightsImportError(f"{fmt} {origin} do not fit the model: " + "; ".join(parts))
    return out


def load_pretrained(path, model: nn.Module, fmt: str = "torchvision",
                    skip_head: bool = False) -> dict[str, torch.Tensor]:
    """The weights file ``path`` as a state_dict in ``model``'s names (checked; see
    :func:`convert_state_dict`), ready for ``model.load_state_dict(..., strict=False)``."""
    return convert_state_dict(read_weights(path, fmt), model, fmt, origin=f"weights '{path}'",
                              skip_head=skip_head)


def num_classes(source: Mapping[str, torch.Tensor], fmt: str = "torchvision") -> int:
    """Classes of the pretrained head (torchvision: rows of ``fc.weight``)."""
    if "fc.weight" not in source:
        raise WeightsImportError(f"{fmt} weights have no classifier 'fc.weight'")
    return int(source["fc.weight"].shape[0])
