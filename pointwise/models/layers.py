"""Building blocks shared by the model families.

Everything here is functional in its parameters (no in-place updates of weights, no ``.item()``,
no data-dependent Python branches), so that a whole ensemble can run as one
``torch.vmap(functional_call(...))`` over ``torch.func.stack_module_state`` (train mode included:
BatchNorm updates its stacked running-stat buffers).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

NORMS = ("batch", "group", "group_ws", "none")
INITS = ("pytorch", "openlth", "kaiming")


class WSConv2d(nn.Conv2d):
    """Conv2d with Weight Standardization (Qiao et al. 2019), as BiT's ``StdConv2d``: each output
    filter is standardised to zero mean, unit variance over (in, kh, kw) on every forward.
    Paired with GroupNorm it replaces BatchNorm in paper 002's ResNet18 (spec 002 §4.2)."""

    def __init__(self, *args, eps: float = 1e-10, **kwargs):
        super().__init__(*args, **kwargs)
        self.eps = eps            # BiT's value (bit_pytorch/models.py)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        var, mean = torch.var_mean(self.weight, dim=(1, 2, 3), keepdim=True, unbiased=False)
        w = (self.weight - mean) / torch.sqrt(var + self.eps)
        return F.conv2d(x, w, self.bias, self.stride, self.padding, self.dilation, self.groups)


def check_norm(kind: str) -> str:
    if kind not in NORMS:
        raise ValueError(f"unknown norm '{kind}' (valid: {', '.join(NORMS)})")
    return kind


def group_count(channels: int, groups: int = 32) -> int:
    """Largest divisor of ``channels`` that is <= ``groups`` (GroupNorm needs groups | channels)."""
    g = max(1, min(groups, channels))
    while channels % g:
        g -= 1
    return g


def norm_layer(kind: str, channels: int, groups: int = 32) -> nn.Module:
    """Normalisation after a conv: ``batch`` -> BatchNorm2d; ``group`` and ``group_ws`` ->
    GroupNorm with ``groups`` (clipped to divide ``channels``; 32 is BiT's default, spec 002 §4.2);
    ``none`` -> Identity. ``group_ws`` differs from ``group`` only on the conv side (see
    :func:`conv2d`)."""
    check_norm(kind)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind in ("group", "group_ws"):
        return nn.GroupNorm(group_count(channels, groups), channels)
    return nn.Identity()


def conv2d(norm: str, c_in: int, c_out: int, kernel: int, stride: int = 1,
           bias: bool = False) -> nn.Conv2d:
    """A 'same'-padded conv; a :class:`WSConv2d` when ``norm == 'group_ws'``."""
    cls = WSConv2d if check_norm(norm) == "group_ws" else nn.Conv2d
    return cls(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=bias)


def check_init(kind: str) -> str:
    if kind not in INITS:
        raise ValueError(f"unknown init '{kind}' (valid: {', '.join(INITS)})")
    return kind


@torch.no_grad()
def apply_init(model: nn.Module, kind: str) -> None:
    """``pytorch``: leave PyTorch's default initialisation (spec 002 §4.2). ``openlth``: the
    OpenLTH defaults used by paper 003 (spec 003 §4): kaiming_normal_ (fan_in, gain sqrt 2) on
    every conv and linear weight (biases keep the PyTorch default), BatchNorm weight ~ U(0, 1)
    and bias 0. ``kaiming``: He-normal weights and zero biases on every conv and linear layer,
    which keeps the signal alive through deep plain ReLU stacks (e.g. a 7-layer MLP)."""
    if check_init(kind) == "pytorch":
        return
    if kind == "kaiming":
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                if m.bias is not None:
                    m.bias.zero_()
        return
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight)
        elif isinstance(m, nn.BatchNorm2d):
            m.weight.copy_(torch.rand_like(m.weight))
            m.bias.zero_()


def check_image_shape(in_shape, family: str) -> tuple[int, int, int]:
    """``in_shape`` must be (channels, height, width) for the conv families."""
    if len(in_shape) != 3 or min(in_shape) < 1:
        raise ValueError(f"{family} needs in_shape (channels, height, width), got {tuple(in_shape)}")
    return tuple(int(s) for s in in_shape)


def halve(size: int, times: int, family: str, what: str) -> int:
    """Spatial side after ``times`` 2x2 poolings (floor); ValueError if it reaches 0."""
    s = size
    for _ in range(times):
        s = s // 2
        if s < 1:
            raise ValueError(f"{family}: input side {size} is too small for {times} {what} "
                             f"(needs at least {2 ** times})")
    return s

