"""CIFAR ResNet-18 (kuangliu/pytorch-cifar layout; spec 002 §4.2, spec 000 §4.1): 3x3 stride-1
stem with 64 channels, no max-pool, post-activation (v1) BasicBlocks [2, 2, 2, 2] with 64/128/256/512
channels (stride 2 at the first block of stages 2-4, 1x1 conv + norm projection shortcut where the
shape changes), global average pool, Linear. ``width`` multiplies every channel count.

``norm``: ``batch`` (the standard model, paper 000) or ``group_ws`` (paper 002: GroupNorm with 32
groups and Weight Standardization on every conv, shortcut projections included, as in BiT);
``group`` and ``none`` are also accepted.

Probes (spec 002 §3.1, L = 10): ``input``, ``stem`` (conv + norm, pre-ReLU), ``layer{s}.{b}`` for
s = 1..4, b = 0, 1 (block output after the residual addition, pre-ReLU), ``softmax``.
``probe_every_conv`` adds ``layer{s}.{b}.conv1`` (each block's first conv + norm, pre-ReLU) before
the block's probe: the "probe after every conv" alternative of §3.1, L = 18.

``stem``: ``cifar`` (the default above) or ``imagenet``: torchvision's ImageNet stem, a 7x7
stride-2 conv + norm + ReLU + 3x3 stride-2 max-pool (``stem``/``stem_norm`` hold its conv and
norm), so that torchvision-format ImageNet weights load (:mod:`pointwise.models.import_weights`;
paper 001's ImageNet-pretrained ResNet-18). The ``stem`` probe is the conv + norm output, pre-ReLU,
before the max-pool, in both stems.

Resolution: any (C, H, W) (adaptive global average pool; at 32x32 it is kuangliu's 4x4 avg pool);
with the ImageNet stem the feature maps are 4x smaller (32x32 inputs reach layer4 at 1x1).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .base import ProbedModel
from .layers import check_image_shape, conv2d, norm_layer
from .resnet_cifar import BasicBlock

STEMS = ("cifar", "imagenet")


class ResNet18(ProbedModel):
    def __init__(self, in_shape, num_classes: int, norm: str = "batch", width: float = 1.0,
                 probe_every_conv: bool = False, stem: str = "cifar"):
        super().__init__()
        c, _, _ = check_image_shape(in_shape, "resnet18")
        if width <= 0:
            raise ValueError(f"resnet18 width must be > 0, got {width}")
        if stem not in STEMS:
            raise ValueError(f"resnet18 stem must be one of {', '.join(STEMS)}, got {stem!r}")
        chans = [max(1, round(64 * width * 2 ** i)) for i in range(4)]
        self.stem_kind = stem
        self.stem = conv2d(norm, c, chans[0], 3) if stem == "cifar" else conv2d(norm, c, chans[0], 7, 2)
        self.stem_norm = norm_layer(norm, chans[0])
        blocks, names, c_in = [], [], chans[0]
        for s, c_out in enumerate(chans, start=1):
            for b in range(2):
                blocks.append(BasicBlock(c_in, c_out, 2 if (s > 1 and b == 0) else 1, norm))
                names.append(f"layer{s}.{b}")
                c_in = c_out
        self.blocks = nn.ModuleList(blocks)
        self.block_names = names
        self.head = nn.Linear(c_in, num_classes)
        self.probe_every_conv = bool(probe_every_conv)
        inner = []
        for n in names:
            inner += [f"{n}.conv1", n] if self.probe_every_conv else [n]
        self.probe_names = ["input", "stem", *inner, "softmax"]

    def _forward(self, x: torch.Tensor, tap) -> torch.Tensor:
        h = self.stem_norm(self.stem(x))
        tap("stem", h)
        h = F.relu(h)
        if self.stem_kind == "imagenet":
            h = F.max_pool2d(h, kernel_size=3, stride=2, padding=1)
        for name, block in zip(self.block_names, self.blocks):
            h = block(h, tap if self.probe_every_conv else None, name)
            tap(name, h)
            h = F.relu(h)
        return self.head(F.adaptive_avg_pool2d(h, 1).flatten(1))
