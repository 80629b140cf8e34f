"""GraNd (Paul et al. 2021; spec 003 §3.2, §3.1 item 4):
G_i = ||grad_theta l(p_theta(x_i), y_i)||_2 over **all** trainable parameters (conv, BN affine,
FC) at the epoch-G checkpoint (paper: epoch 20), eval mode, un-augmented input, cross-entropy.

Per-example gradients come from ``torch.func.vmap(grad(...))`` over chunks of examples -- one
batched computation per chunk, no Python loop over examples. The authors' code computes in
float64 [C]; that is the default here (``dtype`` selects float32 for speed). EL2N at the same
checkpoint falls out of the same forward pass.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

from .checkpoint import batches, eval_mode, split_state
from .el2n import el2n


def grand_el2n(model: nn.Module, state_dict: Mapping[str, torch.Tensor], x, y, *,
               chunk: int = 64, max_chunk_bytes: int = 1 << 30,
               dtype: torch.dtype = torch.float64,
               device: torch.device | str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(GraNd [N], EL2N [N]) of the network ``model`` (architecture only; its weights are not
    used or changed) at checkpoint ``state_dict``, for preprocessed inputs ``x`` [N, ...] and
    labels ``y`` [N].

    chunk: examples per vmap call, lowered so that chunk * n_params * itemsize stays below
    ``max_chunk_bytes``. dtype: compute precision. device: where to compute (default: x's)."""
    x = torch.as_tensor(x)
    y = torch.as_tensor(y, dtype=torch.long)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"{x.shape[0]} inputs but {y.shape[0]} labels")
    device = x.device if device is None else torch.device(device)
    params, rest = split_state(model, state_dict, dtype, device)
    n_params = sum(p.numel() for p in params.values())
    itemsize = torch.empty((), dtype=dtype).element_size()
    chunk = max(1, min(int(chunk), max_chunk_bytes // max(1, n_params * itemsize)))

    def loss_one(p, xi, yi):
        logits = functional_call(model, (p, rest), (xi.unsqueeze(0),))
        return F.cross_entropy(logits, yi.unsqueeze(0)), logits.squeeze(0)

    per_example = vmap(grad(loss_one, has_aux=True), in_dims=(None, 0, 0))
    norms, logits_out = [], []
    with eval_mode(model):
        for sl in batches(len(y), chunk):
            xb = x[sl].to(device=device, dtype=dtype)
            yb = y[sl].to(device)
            grads, logits = per_example(params, xb, yb)
            sq = sum(g.reshape(g.shape[0], -1).pow(2).sum(1) for g in grads.values())
            norms.append(sq.sqrt().detach().cpu().double().numpy())
            logits_out.append(logits.detach().cpu().double().numpy())
    if not norms:
        return np.zeros(0), np.zeros(0)
    logits = np.concatenate(logits_out)
    return np.concatenate(norms), el2n(logits, y.cpu().numpy())


def grand(model: nn.Module, state_dict: Mapping[str, torch.Tensor], x, y, **kwargs) -> np.ndarray:
    """GraNd [N] only (see :func:`grand_el2n`)."""
    return grand_el2n(model, state_dict, x, y, **kwargs)[0]
