"""On-device augmentation of a whole ensemble batch at once: random crop with zero padding and
horizontal flip, with per-example parameters drawn from each member's own generator."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def draw_params(rng: np.random.Generator, n: int, padding: int, flip: bool) -> np.ndarray:
    """int64 [n, 3]: crop offsets (dy, dx) in 0..2·padding and a flip bit, from one member's rng."""
    out = np.zeros((n, 3), dtype=np.int64)
    if padding:
        out[:, :2] = rng.integers(0, 2 * padding + 1, size=(n, 2))
    if flip:
        out[:, 2] = rng.integers(0, 2, size=n)
    return out


def apply(x: torch.Tensor, params: torch.Tensor, padding: int) -> torch.Tensor:
    """Crop and flip ``x`` [..., C, H, W] with ``params`` [..., 3] (see draw_params), vectorised."""
    lead, (c, h, w) = x.shape[:-3], x.shape[-3:]
    x = x.reshape(-1, c, h, w)
    p = params.reshape(-1, 3).to(x.device)
    if padding:
        xp = F.pad(x, (padding, padding, padding, padding))
        rows = p[:, 0, None] + torch.arange(h, device=x.device)          # [n, h]
        cols = p[:, 1, None] + torch.arange(w, device=x.device)          # [n, w]
        n = x.shape[0]
        idx_n = torch.arange(n, device=x.device)[:, None, None]
        x = xp.permute(0, 2, 3, 1)[idx_n, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)
    flip = p[:, 2].bool()
    if flip.any():
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    return x.reshape(*lead, c, h, w)
