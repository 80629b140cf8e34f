"""Logistic-regression probes (paper 002 App. E, Fig E.48): a multinomial linear classifier fitted
on the embeddings of one layer, the alternative to the k-NN probe that the paper compares against.

Full batch, on the device, in plain torch: minimise

    mean_i CE(softmax(x_i W + b), y_i) + (l2 / 2) * ||W||_F^2

(the bias is not penalised) with L-BFGS (strong Wolfe line search) from W = 0, b = 0, for at most
``max_iter`` iterations. With ``standardize`` (default) every feature is centred and scaled by its
standard deviation over the fitting rows (constant features by 1) so that one ``l2`` means the same
across layers of very different scales; the standardisation is folded into the weights, so the
embedding matrix is never copied. This objective is scikit-learn's ``LogisticRegression`` (lbfgs,
multinomial) with ``C = 1 / (l2 * n)`` on the same (standardised) features.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .knn import resolve_device


@dataclass
class LogisticProbe:
    """A fitted probe: logits = x @ weight + bias, on the raw (unstandardised) features."""
    weight: torch.Tensor          # [D, C]
    bias: torch.Tensor            # [C]
    loss: float                   # final objective on the fitting rows
    iterations: int               # L-BFGS iterations run

    def logits(self, x) -> torch.Tensor:
        x = torch.as_tensor(x, dtype=torch.float32, device=self.weight.device)
        return x @ self.weight + self.bias

    def predict(self, x) -> np.ndarray:
        """Predicted class per row, int64 [n]."""
        return self.logits(x).argmax(1).cpu().numpy()

    def accuracy(self, x, y) -> float:
        return float((self.predict(x) == np.asarray(y)).mean())


def fit_logistic_probe(x, y, num_classes: int, *, l2: float = 1e-4, max_iter: int = 100,
                       standardize: bool = True, tol: float = 1e-7, device=None) -> LogisticProbe:
    """Fit the multinomial logistic regression of the module docstring on rows ``x`` [n, D] (array
    or tensor, any device) with integer labels ``y`` [n] in 0..num_classes-1."""
    if l2 < 0 or max_iter < 1:
        raise ValueError(f"need l2 >= 0 and max_iter >= 1, got l2={l2}, max_iter={max_iter}")
    dev = resolve_device(device)
    x = torch.as_tensor(x, dtype=torch.float32).to(dev)
    y = torch.as_tensor(np.asarray(y), dtype=torch.int64).to(dev)
    if x.dim() != 2 or len(x) != len(y) or len(x) == 0:
        raise ValueError(f"need x [n, D] and y [n] with n > 0, got {tuple(x.shape)} and {tuple(y.shape)}")
    if int(y.min()) < 0 or int(y.max()) >= num_classes:
        raise ValueError(f"labels must lie in 0..{num_classes - 1}")
    D = x.shape[1]
    if standardize:
        mu = x.mean(0)
        sd = x.std(0, unbiased=False)
        inv = torch.where(sd > 1e-12, 1.0 / sd.clamp_min(1e-12), torch.ones_like(sd))
    else:
        mu = torch.zeros(D, device=dev)
        inv = torch.ones(D, device=dev)
    w = torch.zeros(D, num_classes, device=dev, requires_grad=True)   # in standardised units
    b = torch.zeros(num_classes, device=dev, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=int(max_iter), history_size=10,
                            tolerance_grad=tol, tolerance_change=tol * 1e-3, line_search_fn="strong_wolfe")

    def objective():
        # ((x - mu) * inv) @ w + b  ==  x @ (inv[:, None] * w) + (b - (mu * inv) @ w)
        ws = inv[:, None] * w
        z = x @ ws + (b - (mu * inv) @ w)
        return F.cross_entropy(z, y) + 0.5 * l2 * (w * w).sum()

    def closure():
        opt.zero_grad()
        loss = objective()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        loss = float(objective())
        weight = inv[:, None] * w
        bias = b - (mu * inv) @ w
    n_iter = int(opt.state[opt._params[0]].get("n_iter", 0))
    return LogisticProbe(weight.detach(), bias.detach(), loss, n_iter)
