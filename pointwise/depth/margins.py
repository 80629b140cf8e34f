"""Output and input margins (paper 002 §3.3; spec §3.7).

- Output margin: z_(1) - z_(2), the largest logit minus the second largest.
- Input margin, linearised (Jiang et al. 2018): for the predicted class i,
  gamma(x) ~= min_{j != i} |z_i - z_j| / ||grad_x (z_i - z_j)||_2, in the model's (preprocessed)
  input space. The Jacobian of the logits is computed per batch: C backward passes over the whole
  batch (``method='autograd'``) or ``torch.func.vmap(jacrev)`` (``method='jacrev'``); never a
  per-example loop. Exact for a linear model z = Wx + b: |z_i - z_j| / ||w_i - w_j||.
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


def _jacobian_autograd(model, xb):
    xb = xb.detach().requires_grad_(True)
    z = model(xb)
    C = z.shape[1]
    rows = []
    for c in range(C):                       # C backward passes over the whole batch
        g, = torch.autograd.grad(z[:, c].sum(), xb, retain_graph=c < C - 1)
        rows.append(g.flatten(1))
    return z.detach(), torch.stack(rows, 1)  # [B, C], [B, C, D]


def _jacobian_jacrev(model, xb):
    from torch.func import functional_call, jacrev, vmap
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def f(x1):
        z = functional_call(model, (params, buffers), (x1[None],))[0]
        return z, z

    J, z = vmap(jacrev(f, has_aux=True))(xb)
    return z.detach(), J.flatten(2)


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
    jac = _jacobian_autograd if method == "autograd" else _jacobian_jacrev
    try:
        for s in range(0, len(x), batch_size):
            xb = x[s:s + batch_size].to(dev, torch.float32)
            with torch.enable_grad():
                z, J = jac(model, xb)
            i = z.argmax(1) if pred is None else torch.as_tensor(
                np.asarray(pred)[s:s + batch_size], device=dev, dtype=torch.int64)
            gap = (z.gather(1, i[:, None]) - z).abs().double()                       # [B, C]
            gnorm = (J.gather(1, i[:, None, None].expand(-1, 1, J.shape[2])) - J).double().norm(dim=2)
            ratio = gap / gnorm
            ratio.scatter_(1, i[:, None], float("inf"))                            # j != i
            out[s:s + len(xb)] = ratio.min(1).values.cpu().numpy()
    finally:
        model.train(was_training)
    return out
