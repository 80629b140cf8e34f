"""Per-example training losses and the per-example quantities recorded at every presentation."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def per_example_loss(logits: torch.Tensor, y: torch.Tensor, kind: str) -> torch.Tensor:
    """Loss of each example; logits [..., C], y [...].

    - ``cross_entropy``.
    - ``mse``: squared error between logits and the one-hot target, summed over classes
      (paper 001 App. C.4: "MSE between the output logits and the one-hot target").
    - ``zero_hinge``: Σ_{j≠y} max(0, z_j − z_y), the zero-margin multiclass hinge of paper 002
      §3.3 with the printed sign erratum corrected (spec 002 §3.12).
    """
    c = logits.shape[-1]
    flat, yf = logits.reshape(-1, c), y.reshape(-1)
    if kind == "cross_entropy":
        out = F.cross_entropy(flat.float(), yf, reduction="none")
    elif kind == "mse":
        out = ((flat.float() - F.one_hot(yf, c).float()) ** 2).sum(1)
    elif kind == "zero_hinge":
        zy = flat.gather(1, yf[:, None])
        out = torch.clamp(flat - zy, min=0).sum(1)    # the j = y term is max(0, 0) = 0
    else:
        raise ValueError(f"unknown loss '{kind}' (valid: cross_entropy, mse, zero_hinge)")
    return out.reshape(y.shape)


def label_margin(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """z_y − max_{c≠y} z_c for each example (positive iff correctly classified)."""
    zy = logits.gather(-1, y[..., None]).squeeze(-1)
    other = logits.scatter(-1, y[..., None], float("-inf")).amax(-1)
    return zy - other
