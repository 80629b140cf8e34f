"""VoG, variance of gradients (Agarwal et al. 2020) as paper 003 uses it (spec 003 §3.1 item 3,
§3.2): "mean per-pixel variance of gradients at input over training".

For checkpoints e = 1..E: g_{e,i} = d p_{e,i,y_i} / d x_i, the input gradient of the softmax
probability of the true class (the authors' "classvog" [C]), eval mode, un-augmented input;
averaged over colour channels to gbar_{e,i} in R^{HxW}; then
V_i = (1/(HW)) sum_{h,w} Var_e[gbar_{e,i,h,w}] with the unbiased 1/(E-1) (as in the code [C]).
``target="loss"`` gives the optional cross-entropy variant ("lossvog"). Gradients are taken
w.r.t. the tensor fed to the network (after the training normalisation/padding).

The variance is accumulated online -- per-pixel sums and sums of squares of the deviation from
the first checkpoint's gradient (a shifted sum, so that no cancellation occurs and a constant
sequence gives exactly 0) -- so the [E, N, H, W] tensor is never stored.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from .checkpoint import batches, eval_mode, split_state

TARGETS = ("prob", "loss")


def input_gradients(model: nn.Module, state_dict: Mapping[str, torch.Tensor], x, y, *,
                    target: str = "prob", chunk: int = 256, dtype: torch.dtype = torch.float32,
                    device: torch.device | str | None = None) -> torch.Tensor:
    """Per-example input gradients [N, *x.shape[1:]] (on the CPU) of ``target`` at checkpoint
    ``state_dict``: ``prob`` = softmax probability of the true class, ``loss`` = cross-entropy.
    In eval mode the examples of a batch do not interact, so the gradient of the batch sum is
    exactly each example's own gradient."""
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    x = torch.as_tensor(x)
    y = torch.as_tensor(y, dtype=torch.long)
    device = x.device if device is None else torch.device(device)
    params, rest = split_state(model, state_dict, dtype, device)
    out = torch.empty(x.shape, dtype=dtype)
    with eval_mode(model):
        for sl in batches(len(y), chunk):
            xb = x[sl].to(device=device, dtype=dtype).requires_grad_(True)
            yb = y[sl].to(device)
            logits = functional_call(model, (params, rest), (xb,))
            if target == "prob":
                obj = torch.softmax(logits, dim=1).gather(1, yb[:, None]).sum()
            else:
                obj = F.cross_entropy(logits, yb, reduction="sum")
            (g,) = torch.autograd.grad(obj, xb)
            out[sl] = g.detach().cpu()
    return out


class VoGAccumulator:
    """Online per-pixel variance over checkpoints of channel-averaged input gradients.

    ``add(g)`` with g [N, C, H, W] (one checkpoint, all examples) averages over channels (axis 1)
    and updates float64 shifted sums; ``variance()`` [N, H, W] (ddof=1 by default); ``score()``
    the per-example mean over pixels (VoG)."""

    def __init__(self):
        self.count = 0
        self._shift = self._sum = self._sumsq = None

    def add(self, g) -> None:
        g = np.asarray(g.detach().cpu() if torch.is_tensor(g) else g, dtype=np.float64)
        if g.ndim < 2:
            raise ValueError(f"gradients must be [N, C, ...], got shape {g.shape}")
        gbar = g.mean(axis=1)
        if self._shift is None:
            self._shift = gbar.copy()
            self._sum = np.zeros_like(gbar)
            self._sumsq = np.zeros_like(gbar)
        elif gbar.shape != self._shift.shape:
            raise ValueError(f"gradient shape {gbar.shape} != earlier {self._shift.shape}")
        d = gbar - self._shift
        self._sum += d
        self._sumsq += d * d
        self.count += 1

    def variance(self, ddof: int = 1) -> np.ndarray:
        if self.count <= ddof:
            raise ValueError(f"need more than {ddof} checkpoints, have {self.count}")
        var = (self._sumsq - self._sum ** 2 / self.count) / (self.count - ddof)
        return np.maximum(var, 0.0)

    def score(self, ddof: int = 1) -> np.ndarray:
        var = self.variance(ddof)
        return var.reshape(var.shape[0], -1).mean(axis=1)


def vog_from_gradients(grads, ddof: int = 1) -> np.ndarray:
    """VoG [N] from stored gradients [E, N, C, H, W] (direct formula of spec §3.2)."""
    g = np.asarray(grads, dtype=np.float64).mean(axis=2)
    var = g.var(axis=0, ddof=ddof)
    return var.reshape(var.shape[0], -1).mean(axis=1)


def vog(model: nn.Module, state_dicts: Iterable[Mapping[str, torch.Tensor]], x, y, *,
        target: str = "prob", ddof: int = 1, chunk: int = 256,
        dtype: torch.dtype = torch.float32, device: torch.device | str | None = None) -> np.ndarray:
    """VoG [N] over the checkpoints ``state_dicts`` (e.g. the per-epoch snapshots of a run)."""
    acc = VoGAccumulator()
    for sd in state_dicts:
        acc.add(input_gradients(model, sd, x, y, target=target, chunk=chunk, dtype=dtype,
                                device=device))
    return acc.score(ddof)
