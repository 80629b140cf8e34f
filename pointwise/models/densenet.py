"""DenseNet-121, CIFAR variant of kuangliu/pytorch-cifar (spec 000 §4.1): 3x3 stem conv with
2*growth channels (no BN/ReLU after it: the network is pre-activation), dense blocks of
[6, 12, 24, 16] bottlenecks (BN-ReLU-conv1x1(4*growth)-BN-ReLU-conv3x3(growth), output concatenated
to the input), transitions BN-ReLU-conv1x1(floor(reduction * channels))-AvgPool2d(2) with
reduction 0.5, then BN-ReLU, global average pool and Linear. Growth 32 gives 6,956,298 parameters
(3x32x32, 10 classes).

Probes: ``input``, ``stem``, ``dense1``, ``trans1``, ``dense2``, ``trans2``, ``dense3``,
``trans3``, ``dense4``, ``softmax`` (each the output of that stage; all are pre-ReLU, because the
next operation is always BN then ReLU).

Resolution: H, W >= 8 (three 2x2 average pools); the adaptive global pool equals kuangliu's
avg_pool2d(4) at 32x32.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .base import ProbedModel
from .layers import check_image_shape, halve

BLOCKS_121 = (6, 12, 24, 16)


class Bottleneck(nn.Module):
    def __init__(self, c_in: int, growth: int):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(c_in)
        self.conv1 = nn.Conv2d(c_in, 4 * growth, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(4 * growth)
        self.conv2 = nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.relu(self.bn1(x)))
        h = self.conv2(F.relu(self.bn2(h)))
        return torch.cat([h, x], 1)


class Transition(nn.Module):
    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(c_in)
        self.conv = nn.Conv2d(c_in, c_out, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(self.conv(F.relu(self.bn(x))), 2)


class DenseNet(ProbedModel):
    def __init__(self, in_shape, num_classes: int, growth: int = 32,
                 blocks=BLOCKS_121, reduction: float = 0.5):
        super().__init__()
        c, h, w = check_image_shape(in_shape, "densenet121")
        if growth < 1:
            raise ValueError(f"densenet121 growth must be >= 1, got {growth}")
        for s in (h, w):
            halve(s, len(blocks) - 1, "densenet121", "transitions (2x2 average pools)")
        planes = 2 * growth
        self.stem = nn.Conv2d(c, planes, 3, padding=1, bias=False)
        self.stages = nn.ModuleList()
        names = []
        for i, n in enumerate(blocks, start=1):
            layers = []
            for _ in range(n):
                layers.append(Bottleneck(planes, growth))
                planes += growth
            self.stages.append(nn.Sequential(*layers))
            names.append(f"dense{i}")
            if i < len(blocks):
                out = int(math.floor(planes * reduction))
                self.stages.append(Transition(planes, out))
                names.append(f"trans{i}")
                planes = out
        self.stage_names = names
        self.bn = nn.BatchNorm2d(planes)
        self.head = nn.Linear(planes, num_classes)
        self.probe_names = ["input", "stem", *names, "softmax"]

    def _forward(self, x: torch.Tensor, tap) -> torch.Tensor:
        h = self.stem(x)
        tap("stem", h)
        for name, stage in zip(self.stage_names, self.stages):
            h = stage(h)
            tap(name, h)
        return self.head(F.adaptive_avg_pool2d(F.relu(self.bn(h)), 1).flatten(1))
