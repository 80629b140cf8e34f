"""A broader pretraining source cut from a labelled image set, with finer sub-class labels: the
CPU analogue of a CLIP/BiT-JFT source for paper 001's class-mapped zero-shot evaluation (§5.2,
App. C.7; docs/papers/robustness.md explains the choice).

From the parent:

- **Exclusion.** The rows ``balanced_subset(parent, exclude.per_class, seed=exclude.seed)`` selects
  are dropped: with the pool's own ``per_class`` and ``seed`` that is the same call that builds the
  target pool, so the source shares no image with the pool or its test split (the config must
  repeat the pool's values; tests/test_data_broad_source.py checks the disjointness).
- **Size.** Optionally ``per_class`` examples of every class per split (a balanced subset of the
  rest) and block-mean downsampling by ``factor``.
- **Sub-classes.** Each class is split into ``subclasses`` clusters by k-means on its clean
  training images (test images join the nearest centroid of their class); the label is
  class·k + cluster and ``extras/labels_orig`` keeps the class. A model trained on these labels
  predicts the parent's classes only through the class map c -> {c·k, ..., c·k + k − 1}.
- **Nuisances** (:func:`nuisances`), one draw per image: photometric changes, blur, an occluding
  rectangle, a shift of at most 1 px and a horizontal flip. Never the OOD shifts of the default
  scale (elastic deformation, Gaussian pixel noise) and no rotation or scaling.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
from scipy import ndimage

from pointwise.data.downsample import downsample_images
from pointwise.data.store import ImageDataset
from pointwise.data.subsets import balanced_rows, balanced_subset

CONTRAST = (0.4, 1.0)          # scale of deviations from the image mean
BRIGHTNESS = 0.15              # +- shift of [0, 1] intensities
GAMMA = (0.6, 1.6)             # log-uniform exponent
BLUR_SIGMAS = (0.0, 0.5, 1.0)  # pixels at the output resolution, one drawn per image
OCCLUDE_P = 0.5                # probability of an occluding rectangle (sides 1/4 .. 1/2 of the image)
FLIP_P = 0.5


def nuisances(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 [N, C, H, W] -> uint8, each image under its own random draw of every nuisance."""
    n, c, h, w = images.shape
    x = images.astype(np.float32) / 255.0
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    x = mean + (x - mean) * rng.uniform(*CONTRAST, (n, 1, 1, 1)).astype(np.float32)
    x = np.clip(x + rng.uniform(-BRIGHTNESS, BRIGHTNESS, (n, 1, 1, 1)).astype(np.float32), 0.0, 1.0)
    x = x ** np.exp(rng.uniform(np.log(GAMMA[0]), np.log(GAMMA[1]), (n, 1, 1, 1))).astype(np.float32)
    sigma = rng.choice(BLUR_SIGMAS, n)
    for s in BLUR_SIGMAS:
        sel = np.flatnonzero(sigma == s)
        if s > 0 and sel.size:
            x[sel] = ndimage.gaussian_filter(x[sel], sigma=(0, 0, s, s), mode="reflect")
    occ = rng.random(n) < OCCLUDE_P
    rh = rng.integers(max(1, h // 4), max(2, h // 2) + 1, n)
    rw = rng.integers(max(1, w // 4), max(2, w // 2) + 1, n)
    top, left = (rng.random(n) * (h - rh + 1)).astype(int), (rng.random(n) * (w - rw + 1)).astype(int)
    level = rng.random(n).astype(np.float32)
    yy, xx = np.arange(h)[None, :, None], np.arange(w)[None, None, :]
    box = ((yy >= top[:, None, None]) & (yy < (top + rh)[:, None, None])
           & (xx >= left[:, None, None]) & (xx < (left + rw)[:, None, None]) & occ[:, None, None])
    x = np.where(box[:, None], level[:, None, None, None], x)
    dy, dx = rng.integers(-1, 2, n), rng.integers(-1, 2, n)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    rows = (np.arange(h)[None, :] + 1 - dy[:, None])                # [n, h]
    cols = (np.arange(w)[None, :] + 1 - dx[:, None])                # [n, w]
    x = xp[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None],
           rows[:, None, :, None], cols[:, None, None, :]]
    flip = rng.random(n) < FLIP_P
    x[flip] = x[flip][..., ::-1]
    return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)


def kmeans(x: np.ndarray, k: int, rng: np.random.Generator, iters: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means with k-means++ seeding: (centroids [k, D], assignment [N])."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) < k:
        raise ValueError(f"k-means: {len(x)} points for {k} clusters")
    cent = [x[rng.integers(len(x))]]
    d2 = ((x - cent[0]) ** 2).sum(1)
    for _ in range(1, k):
        cent.append(x[rng.choice(len(x), p=d2 / d2.sum())] if d2.sum() > 0 else x[rng.integers(len(x))])
        d2 = np.minimum(d2, ((x - cent[-1]) ** 2).sum(1))
    cent = np.array(cent)
    assign = np.full(len(x), -1)
    for _ in range(iters):
        dist = (x ** 2).sum(1)[:, None] - 2 * x @ cent.T + (cent ** 2).sum(1)[None]
        new = dist.argmin(1)
        if np.array_equal(new, assign):
            break
        assign = new
        for j in range(k):
            if (assign == j).any():
                cent[j] = x[assign == j].mean(0)
    return cent, assign


def subclass_labels(images: np.ndarray, labels: np.ndarray, fit: np.ndarray, num_classes: int, k: int,
                    seed: int = 0) -> np.ndarray:
    """Label class·k + cluster of every image: k-means on the images of each class where ``fit``
    (the training split), every image of the class assigned to its nearest centroid."""
    x = images.reshape(len(images), -1).astype(np.float64) / 255.0
    out = np.empty(len(images), dtype=np.int64)
    rng = np.random.default_rng(seed)
    for c in range(num_classes):
        rows = np.flatnonzero(labels == c)
        cent, _ = kmeans(x[rows[fit[rows]]], k, rng)
        dist = ((x[rows, None, :] - cent[None]) ** 2).sum(-1)
        out[rows] = c * k + dist.argmin(1)
    return out


def broad_source(ds: ImageDataset, subclasses: int, exclude: Mapping | None = None,
                 per_class: Mapping[str, int] | None = None, factor: int | None = None, seed: int = 0,
                 name: str | None = None) -> ImageDataset:
    """The broader sub-class source of ``ds`` (see the module docstring)."""
    if subclasses < 2:
        raise ValueError("broad_source needs at least 2 sub-classes per class (a non-trivial class map)")
    keep = np.ones(len(ds), dtype=bool)
    if exclude:
        pool = balanced_subset(ds, exclude["per_class"], seed=int(exclude.get("seed", 0)))
        keep &= ~np.isin(ds.ids, pool.ids)
    rest = ds.subset(np.flatnonzero(keep))
    if per_class:
        rng = np.random.default_rng(seed)
        rows = []
        for split in rest.split_names:
            if split in per_class:
                r = rest.split_index(split)
                rows.append(r[balanced_rows(rest.labels[r], rest.num_classes, int(per_class[split]), rng,
                                            where=f" of the rest of '{ds.name}' split '{split}'")])
        rest = rest.subset(np.sort(np.concatenate(rows)))
    out = rest.subset(np.arange(len(rest)), name=name or f"{ds.name}_broad")
    if factor:
        out.images = downsample_images(out.images, int(factor))
    fit = out.split == out.split_names.index("train") if "train" in out.split_names else np.ones(len(out), bool)
    sub = subclass_labels(out.images, out.labels, fit, ds.num_classes, int(subclasses), seed=seed)
    out.images = nuisances(out.images, np.random.default_rng([seed, 1]))
    out.extras["labels_orig"] = out.labels.copy()
    out.labels = sub
    out.num_classes = ds.num_classes * int(subclasses)
    names = ds.class_names or [str(c) for c in range(ds.num_classes)]
    out.class_names = [f"{names[c]}/{j}" for c in range(ds.num_classes) for j in range(int(subclasses))]
    out.attrs = {"derive": "broad_source", "subclasses": int(subclasses), "exclude": dict(exclude or {}),
                 "per_class": dict(per_class or {}), "factor": factor, "seed": int(seed),
                 "parent_attrs": ds.attrs}
    return out
