"""Fine-tuning variants of paper 001 §5.5 (App. C.11, C.12): the pretraining-source head kept next
to the new head, a class-mapped head, replay of source examples and an L2 pull towards the
pretrained weights. The engine (:mod:`pointwise.train.engine`) applies them from the recipe keys
``replay``, ``class_map`` and ``l2_init``.

Output layouts of a member's network (:class:`OutputMap`):

* ``plain``: the logits are the target logits.
* ``separate`` (C.11: "two prediction heads"): the classifier is a :class:`DualHead`, the new
  target head and the pretrained source head on the same features; the output is
  [target logits | source logits].
* ``mapped`` (C.12, spec §3.11): the pretrained head is kept and predicts the source classes;
  target logit c is the max logit over the source classes the class map assigns to c.

Replay (C.11): every batch of B fine-tuning examples is joined by R = round(ratio·B) source
examples. The loss of a member is mean_target ℓ + Σ_source ℓ / B, i.e. each example counts 1/B:
to first order the step is that of one target batch followed by ``ratio`` source batches (the
paper's "1, 10 or 100 ImageNet batches for every CIFAR-10 batch").

L2 to init (C.12): λ/2·Σ‖θ − θ_init‖² over the trained parameters that start from the pretrained
checkpoint; its gradient λ(θ − θ_init) is added to the data gradient in place.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

LAYOUTS = ("plain", "separate", "mapped")


class DualHead(nn.Module):
    """The target head (``weight``, ``bias``: the names of the Linear it replaces) and the source
    head (``source``) on the same features; forward returns [target logits | source logits]."""

    def __init__(self, target: nn.Linear, source: nn.Linear):
        super().__init__()
        if target.in_features != source.in_features:
            raise ValueError(f"heads read {target.in_features} and {source.in_features} features")
        self.weight = target.weight
        self.bias = target.bias
        self.source = source
        self.n_target = target.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([F.linear(x, self.weight, self.bias), self.source(x)], dim=-1)


def class_map_index(class_map: Sequence[Sequence[int]], n_source: int) -> torch.Tensor:
    """int64 [C, G]: row c lists the source classes of target c, padded by repeating its first
    entry (a max is unchanged by repeats). Raises on empty or out-of-range groups."""
    groups = [list(map(int, g)) for g in class_map]
    for c, g in enumerate(groups):
        if not g:
            raise ValueError(f"class map: target class {c} has no source class")
        if min(g) < 0 or max(g) >= n_source:
            raise ValueError(f"class map: target class {c} maps to {g}, outside the {n_source} source classes")
    width = max(map(len, groups))
    return torch.tensor([g + [g[0]] * (width - len(g)) for g in groups], dtype=torch.int64)


def mapped_logits(z: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Target logits [..., C] = max over each target's source logits (z [..., P])."""
    return z[..., index.to(z.device)].amax(-1)


@dataclass
class OutputMap:
    """Target and source logits from a network's raw output (see the module docstring)."""

    layout: str
    n_target: int
    index: torch.Tensor | None = None

    def __post_init__(self):
        if self.layout not in LAYOUTS:
            raise ValueError(f"unknown head layout '{self.layout}' (valid: {', '.join(LAYOUTS)})")
        if self.layout == "mapped" and self.index is None:
            raise ValueError("the mapped layout needs a class-map index")

    def target(self, z: torch.Tensor) -> torch.Tensor:
        if self.layout == "separate":
            return z[..., :self.n_target]
        if self.layout == "mapped":
            return mapped_logits(z, self.index)
        return z

    def source(self, z: torch.Tensor) -> torch.Tensor:
        if self.layout == "separate":
            return z[..., self.n_target:]
        if self.layout == "mapped":
            return z
        raise ValueError("a plain network has no source head")


def head_layout(recipe: Mapping) -> str:
    """``mapped`` with a class map, ``separate`` with replay and a fresh target head, else ``plain``."""
    if recipe.get("class_map"):
        return "mapped"
    return "separate" if recipe.get("replay") else "plain"


def replay_count(batch: int, ratio: float) -> int:
    """Source examples joined to a batch of ``batch`` fine-tuning examples."""
    if ratio < 0:
        raise ValueError(f"replay ratio must be >= 0, got {ratio}")
    return int(round(ratio * batch))


def replay_loss(per_target: torch.Tensor, per_source: torch.Tensor | None) -> torch.Tensor:
    """Loss of each member [E] from per-example losses [E, B] and [E, R]: mean over the target
    batch plus the source losses summed and divided by B (each example weighs 1/B)."""
    loss = per_target.mean(1)
    if per_source is not None and per_source.shape[1]:
        loss = loss + per_source.sum(1) / per_target.shape[1]
    return loss


def draw_replay(streams, rows: np.ndarray, count: int) -> np.ndarray:
    """Dataset rows [E, count] of the next ``count`` source examples of each member's stream."""
    return np.stack([rows[s.next(count)[0]] for s in streams])


def l2_to_init_penalty(params: Mapping[str, torch.Tensor], init: Mapping[str, torch.Tensor],
                       lam: float) -> torch.Tensor:
    """λ/2·Σ_k ‖θ_k − θ_init,k‖² of each member [E] (parameters stacked along dim 0)."""
    terms = [((params[k] - v) ** 2).reshape(v.shape[0], -1).sum(1) for k, v in init.items()]
    return 0.5 * lam * torch.stack(terms).sum(0)


@torch.no_grad()
def add_l2_to_init_grad_(params: Mapping[str, torch.Tensor], init: Mapping[str, torch.Tensor],
                         lam: float) -> torch.Tensor:
    """Add λ(θ − θ_init) to each parameter's gradient in place; returns the penalty [E]."""
    for k, v in init.items():
        p = params[k]
        if p.grad is None:
            p.grad = lam * (p.detach() - v)
        else:
            p.grad.add_(p.detach() - v, alpha=lam)
    return l2_to_init_penalty({k: params[k].detach() for k in init}, init, lam)
