"""CIFAR ResNet-(6n+2) of He et al. 2016 as defined by OpenLTH's ``cifar_resnet_D_W`` (paper 003,
spec 003 §4): 3x3 stem (``width`` channels, no bias) + BN + ReLU; three stages of n BasicBlocks with
``width``, 2*``width``, 4*``width`` channels (stride 2 at the first block of stages 2 and 3); a
1x1 conv + BN projection shortcut wherever the shape changes; global average pool; Linear.
ResNet-20 (width 16) has 272,474 trainable parameters, cifar_resnet_20_64 4,327,754, ResNet-32
466,906 (3x32x32 input, 10 classes).

Probes: ``input``, ``stem`` (stem conv + BN, pre-ReLU), ``layer{s}.{b}`` (each block output after
the residual addition, pre-ReLU; s = 1..3, b = 0..n-1), ``softmax``.

Resolution: any (C, H, W); strided 3x3 convs give ceil(H/4) x ceil(W/4) at the last stage and
the global average pool (OpenLTH pools over the whole 8x8 map at 32x32, which is the same thing)
makes the head resolution-independent -- e.g. 8x8 digits (spec 003 §5) or 16x16 synthetic data.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .base import ProbedModel
from .layers import apply_init, check_image_shape, conv2d, norm_layer


class BasicBlock(nn.Module):
    """Post-activation (v1) block: relu(bn2(conv2(relu(bn1(conv1 x)))) + shortcut(x)); returns
    the sum BEFORE the final ReLU so the caller can probe it (spec 002 §3.1)."""

    def __init__(self, c_in: int, c_out: int, stride: int, norm: str = "batch"):
        super().__init__()
        self.conv1 = conv2d(norm, c_in, c_out, 3, stride)
        self.bn1 = norm_layer(norm, c_out)
        self.conv2 = conv2d(norm, c_out, c_out, 3, 1)
        self.bn2 = norm_layer(norm, c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(conv2d(norm, c_in, c_out, 1, stride), norm_layer(norm, c_out))

    def forward(self, x: torch.Tensor, tap=None, name: str = "") -> torch.Tensor:
        h = self.bn1(self.conv1(x))
        if tap is not None:
            tap(f"{name}.conv1", h)
        h = self.bn2(self.conv2(F.relu(h)))
        return h + self.shortcut(x)


class CifarResNet(ProbedModel):
    def __init__(self, in_shape, num_classes: int, depth: int = 20, width: int = 16,
                 init: str = "pytorch"):
        super().__init__()
        c, _, _ = check_image_shape(in_shape, "resnet_cifar")
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"resnet_cifar depth must be 6n+2 with n >= 1 (8, 14, 20, 32, 56, ...), got {depth}")
        if width < 1:
            raise ValueError(f"resnet_cifar width must be >= 1, got {width}")
        n = (depth - 2) // 6
        self.stem = conv2d("batch", c, width, 3)
        self.stem_bn = nn.BatchNorm2d(width)
        blocks, names, c_in = [], [], width
        for s, c_out in enumerate((width, 2 * width, 4 * width), start=1):
            for b in range(n):
                blocks.append(BasicBlock(c_in, c_out, 2 if (s > 1 and b == 0) else 1))
                names.append(f"layer{s}.{b}")
                c_in = c_out
        self.blocks = nn.ModuleList(blocks)
        self.block_names = names
        self.head = nn.Linear(c_in, num_classes)
        self.probe_names = ["input", "stem", *names, "softmax"]
        apply_init(self, init)

    def _forward(self, x: torch.Tensor, tap) -> torch.Tensor:
        h = self.stem_bn(self.stem(x))
        tap("stem", h)
        h = F.relu(h)
        for name, block in zip(self.block_names, self.blocks):
            h = block(h)
            tap(name, h)
            h = F.relu(h)
        return self.head(F.adaptive_avg_pool2d(h, 1).flatten(1))
