"""Output and input margins (paper 002 §3.3; spec §3.7).

- Output margin: z_(1) - z_(2), the largest logit minus the second largest.
- Input margin, linearised (Jiang et al. 2018): for the predicted class i,
  gamma(x) ~= min_{j != i} |z_i - z_j| / ||grad_x (z_i - z_j)||_2, in the model's (preprocessed)
  input space. Batched over examples, never a per-example loop: ``method='autograd'`` runs C - 1
  backward passes over the whole batch, pass s giving every example the gradient of
  z_i - z_j for j = (i + s) mod C; ``method='jacrev'`` takes the full logit Jacobian with
  ``torch.func.vmap(jacrev)``. Exact for a linear model z = Wx + b: |z_i - z_j| / ||w_i - w_j||.
"""
from __future__ import annotations

import numpy as np
import torch


def output_margin(logits) -> np.ndarray:
    """z_(1) - z_(2) float64 [...] of logits [..., C] (C >= 2)."""
    z = np.asarray(logits, dtype=np.float64)
    if z.shape[-1] < 2:
        raise ValueError("the output margin needs at least two classes")
    top2 = np.partition(z, z.shape[-1] - 2, axis=-1)[..., -2:]
    return top2[..., 1] - top2[..., 0]


def _margin_autograd(model, xb, pred):
    """Input margin float64 [B] of one batch with C - 1 backward passes (module docstring)."""
    xb = xb.detach().requires_grad_(True)
    z = model(xb)
    B, C = z.shape
    i = z.detach().argmax(1) if pred is None else pred
    rows = torch.arange(B, device=z.device)
    zi = z[rows, i]
    best = torch.full((B,), float("inf"), dtype=torch.float64, device=z.device)
    for s in range(1, C):                    # C - 1 backward passes over the whole batch
        d = zi - z[rows, (i + s) % C]         # z_i - z_j, one j per example
        g, = torch.autograd.grad(d.sum(), xb, retain_graph=s < C - 1)
        r = d.detach().abs().double() / g.flatten(1).double().norm(dim=1)
        best = torch.minimum(best, r)         # NaN (0/0) propagates, as in the jacrev path
    return best


def _margin_jacrev(model, xb, pred):
    """Input margin float64 [B] of one batch from the full Jacobian (vmap of jacrev)."""
    from torch.func import functional_call, jacrev, vmap
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def f(x1):
        z = functional_call(model, (params, buffers), (x1[None],))[0]
        return z, z

    J, z = vmap(jacrev(f, has_aux=True))(xb)
    J = J.flatten(2)                                                           # [B, C, D]
    i = z.argmax(1) if pred is None else pred
    gap = (z.gather(1, i[:, None]) - z).abs().double()                         # [B, C]
    gnorm = (J.gather(1, i[:, None, None].expand(-1, 1, J.shape[2])) - J).double().norm(dim=2)
    ratio = gap / gnorm
    ratio.scatter_(1, i[:, None], float("inf"))                                # j != i
    return ratio.min(1).values


def input_margin(model: torch.nn.Module, x, *, pred=None, batch_size: int = 256, device=None,
                 method: str = "autograd") -> np.ndarray:
    """Linearised input margin float64 [n] of inputs x [n, ...] (already preprocessed) under
    ``model`` in eval mode; ``pred`` [n] the class i (default the model's argmax). inf where every
    gradient difference vanishes with a nonzero logit gap, NaN for 0/0."""
    if method not in ("autograd", "jacrev"):
        raise ValueError(f"method must be 'autograd' or 'jacrev', got {method!r}")
    dev = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    x = torch.as_tensor(x)
    out = np.empty(len(x), dtype=np.float64)
    margin = _margin_autograd if method == "autograd" else _margin_jacrev
    try:
        for s in range(0, len(x), batch_size):
            xb = x[s:s + batch_size].to(dev, torch.float32)
            i = None if pred is None else torch.as_tensor(
                np.asarray(pred)[s:s + batch_size], device=dev, dtype=torch.int64)
            with torch.enable_grad():
                out[s:s + len(xb)] = margin(model, xb, i).detach().cpu().numpy()
    finally:
        model.train(was_training)
    return out
