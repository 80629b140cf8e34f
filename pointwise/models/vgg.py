"""VGG-11/13/16/19, CIFAR variant: a plan of conv3x3 (with bias) [+ BatchNorm] + ReLU layers and
2x2 max-pools ("M"), then a one-Linear classifier.

Two published configurations are expressible:
- OpenLTH ``cifar_vgg_D[_W]`` (paper 003, spec 003 §4): ``batch_norm=True, head="avgpool"``; the
  plan ends with a conv stage (4 pools), then AvgPool2d(2) and Linear(512 -> C). VGG-16 has
  14,728,266 parameters, VGG-16 at width 16 924,186, VGG-11 9,231,114 (3x32x32, 10 classes).
  ``width`` = channels of the first stage, every stage scaled by width/64.
- Paper 002's VGG16 (spec 002 §4.2): ``batch_norm=False, head="flatten"``: the final max-pool,
  flatten, one Linear (512 -> C at 32x32). 13 convs, L = 14.

``head``: ``avgpool`` = global average pool + Linear (identical to OpenLTH's AvgPool2d(2) on its
2x2 map at 32x32, and resolution-independent); ``flatten`` = MaxPool2d(2) + flatten + Linear over
C*h*w features (so its size depends on the input resolution).
``plan`` (optional) replaces the named depth/width plan by an explicit list such as
[16, 16, "M", 32, 32, "M", 64, 64, 64] (spec 003 §5's 8x8 analogues, spec 002 §5.3's VGG-lite).

Probes (spec 002 §3.1): ``input``, ``conv1`` .. ``conv{K}`` (each conv [+ BN] output, pre-ReLU;
no probes on pools), ``softmax``.

Resolution: every pool halves the side (floor), so the named plans need H, W >= 16 with
``avgpool`` and >= 32 with ``flatten`` (pad 28x28 inputs to 32x32, or use a shorter ``plan``);
too small an input raises ValueError at construction.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .base import ProbedModel
from .layers import apply_init, check_image_shape, halve

PLANS = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512],
    19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
         512, 512, 512, 512],
}
HEADS = ("avgpool", "flatten")


def vgg_plan(depth: int, width: int) -> list:
    """The named plan with every stage scaled by width / 64 (OpenLTH's ``cifar_vgg_D_W``)."""
    if depth not in PLANS:
        raise ValueError(f"unknown vgg depth {depth} (valid: {', '.join(map(str, PLANS))})")
    if width < 1:
        raise ValueError(f"vgg width must be >= 1, got {width}")
    return [x if x == "M" else max(1, round(x * width / 64)) for x in PLANS[depth]]


class VGG(ProbedModel):
    def __init__(self, in_shape, num_classes: int, depth: int = 16, width: int = 64,
                 batch_norm: bool = True, head: str = "avgpool", plan=None, init: str = "pytorch"):
        super().__init__()
        c, h, w = check_image_shape(in_shape, "vgg")
        if head not in HEADS:
            raise ValueError(f"unknown vgg head '{head}' (valid: {', '.join(HEADS)})")
        plan = vgg_plan(depth, width) if plan is None else list(plan)
        if not plan or any(x != "M" and (not isinstance(x, int) or x < 1) for x in plan) \
                or all(x == "M" for x in plan):
            raise ValueError(f"vgg plan must list positive ints and 'M', with at least one conv; got {plan}")
        pools = plan.count("M") + (head == "flatten")
        h, w = (halve(s, pools, "vgg", "max-pools") for s in (h, w))
        self.plan = plan
        self.convs, self.norms = nn.ModuleList(), nn.ModuleList()
        for x in plan:
            if x != "M":
                self.convs.append(nn.Conv2d(c, x, 3, padding=1))
                self.norms.append(nn.BatchNorm2d(x) if batch_norm else nn.Identity())
                c = x
        self.head_kind = head
        self.head = nn.Linear(c * h * w if head == "flatten" else c, num_classes)
        self.probe_names = ["input", *(f"conv{i}" for i in range(1, len(self.convs) + 1)), "softmax"]
        apply_init(self, init)

    def _forward(self, x: torch.Tensor, tap) -> torch.Tensor:
        i = 0
        for item in self.plan:
            if item == "M":
                x = F.max_pool2d(x, 2)
                continue
            x = self.norms[i](self.convs[i](x))
            i += 1
            tap(f"conv{i}", x)
            x = F.relu(x)
        if self.head_kind == "flatten":
            return self.head(F.max_pool2d(x, 2).flatten(1))
        return self.head(F.adaptive_avg_pool2d(x, 1).flatten(1))
