"""Fully connected ReLU network on the flattened input (paper 002's MLP, spec 002 §4.2: 7 hidden
layers of width 2048; §5.3 scales the width to 512 on CPU).

Probes (spec 002 §3.1): ``input``, ``fc1`` .. ``fc{depth}`` (each hidden Linear's output, before
its ReLU), ``softmax`` -- L = depth + 1. ``probe_every_op`` adds ``relu{i}`` after each ``fc{i}``
(the per-operation probes of paper 002 Fig A.9). Any input shape (it is flattened).
``init``: ``pytorch`` (default, spec 002 §4.2) or ``kaiming`` (He normal; PyTorch's default
shrinks the signal about sixfold in variance per layer, which stalls deep MLPs on short budgets).
``depth: 0`` is softmax regression on the pixels (the weakest testbed model of paper 001).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .base import ProbedModel
from .layers import apply_init


class MLP(ProbedModel):
    def __init__(self, in_shape, num_classes: int, depth: int = 7, width: int = 2048,
                 probe_every_op: bool = False, init: str = "pytorch"):
        super().__init__()
        if depth < 0 or width < 1:
            raise ValueError(f"mlp needs depth >= 0 and width >= 1, got depth={depth}, width={width}")
        d_in = math.prod(in_shape)
        self.hidden = nn.ModuleList(nn.Linear(d_in if i == 0 else width, width) for i in range(depth))
        self.head = nn.Linear(width if depth else d_in, num_classes)
        self.probe_every_op = bool(probe_every_op)
        inner = []
        for i in range(1, depth + 1):
            inner += [f"fc{i}", f"relu{i}"] if self.probe_every_op else [f"fc{i}"]
        self.probe_names = ["input", *inner, "softmax"]
        apply_init(self, init)

    def _forward(self, x: torch.Tensor, tap) -> torch.Tensor:
        h = x.flatten(1)
        for i, layer in enumerate(self.hidden, start=1):
            h = layer(h)
            tap(f"fc{i}", h)
            h = F.relu(h)
            if self.probe_every_op:
                tap(f"relu{i}", h)
        return self.head(h)
