"""A small CNN family for CPU-scale runs: one stage per entry of ``widths``, each
``convs_per_stage`` x (conv3x3 -> norm -> ReLU) followed by a 2x2 max-pool; then global average
pool and Linear. Convs carry a bias only when ``norm == 'none'`` (a norm layer's shift makes it
redundant). PyTorch default initialisation.

Probes: ``input``, ``conv1`` .. ``conv{K}`` (K = len(widths) * convs_per_stage; each conv + norm
output, pre-ReLU), ``softmax``.

Resolution: H, W >= 2 ** len(widths) (e.g. 1x28x28 Fashion-MNIST or 1x8x8 digits with three
stages); smaller inputs raise ValueError at construction.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .base import ProbedModel
from .layers import check_image_shape, check_norm, conv2d, halve, norm_layer


class SmallCNN(ProbedModel):
    def __init__(self, in_shape, num_classes: int, widths=(16, 32, 64), norm: str = "batch",
                 convs_per_stage: int = 1):
        super().__init__()
        c, h, w = check_image_shape(in_shape, "small_cnn")
        check_norm(norm)
        widths = list(widths)
        if not widths or any(not isinstance(x, int) or x < 1 for x in widths) or convs_per_stage < 1:
            raise ValueError(f"small_cnn needs non-empty positive int widths and convs_per_stage >= 1, "
                             f"got widths={widths}, convs_per_stage={convs_per_stage}")
        for s in (h, w):
            halve(s, len(widths), "small_cnn", "max-pools")
        self.convs, self.norms = nn.ModuleList(), nn.ModuleList()
        for x in widths:
            for _ in range(convs_per_stage):
                self.convs.append(conv2d(norm, c, x, 3, bias=norm == "none"))
                self.norms.append(norm_layer(norm, x))
                c = x
        self.convs_per_stage = convs_per_stage
        self.head = nn.Linear(c, num_classes)
        self.probe_names = ["input", *(f"conv{i}" for i in range(1, len(self.convs) + 1)), "softmax"]

    def _forward(self, x: torch.Tensor, tap) -> torch.Tensor:
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms), start=1):
            x = norm(conv(x))
            tap(f"conv{i}", x)
            x = F.relu(x)
            if i % self.convs_per_stage == 0:
                x = F.max_pool2d(x, 2)
        return self.head(F.adaptive_avg_pool2d(x, 1).flatten(1))
