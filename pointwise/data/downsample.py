"""Downsampled copies of a dataset: each image averaged over ``factor``×``factor`` blocks.

Small images keep CPU-scale runs of many architectures affordable (spec 003 §5 trains its six
architectures on 8×8 digits for the same reason); ids, labels, splits and extras are kept.
"""
from __future__ import annotations

import numpy as np

from pointwise.data.store import ImageDataset


def downsample_images(images: np.ndarray, factor: int) -> np.ndarray:
    """uint8 [N, C, H, W] -> uint8 [N, C, H//f, W//f] by block means (rounded); H, W must divide."""
    n, c, h, w = images.shape
    if factor < 1 or h % factor or w % factor:
        raise ValueError(f"downsample factor {factor} must be >= 1 and divide the image size {h}x{w}")
    blocks = images.reshape(n, c, h // factor, factor, w // factor, factor).astype(np.float32)
    return np.rint(blocks.mean(axis=(3, 5))).astype(np.uint8)


def downsample(ds: ImageDataset, factor: int, name: str | None = None) -> ImageDataset:
    out = ds.subset(np.arange(len(ds)), name=name or f"{ds.name}_x{factor}")
    out.images = downsample_images(ds.images, factor)
    out.attrs = {**ds.attrs, "derive": "downsample", "factor": int(factor)}
    return out
