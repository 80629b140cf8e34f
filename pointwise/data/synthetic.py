"""A procedural, seeded image dataset with known per-example ground truth, for tests and CPU runs.

It stands in for the papers' datasets at the test scale (DESIGN.md "Scales") and follows the
spec proposals: class prototypes with one common and a few rare sub-prototypes at Zipf-like
frequencies (spec 003 §"synthetic long-tail"), a weak per-class brightness/colour cue next to the
spatial pattern (spec 000 §5), examples blended between two classes ("ambiguous") and planted
flipped training labels (spec 002 §5.3). A class pattern is a smooth periodic random field plus a
class-specific plane wave, so classes differ in layout and in local texture (convolutional nets
with global pooling can learn it too). Nuisances per example: a circular shift, a contrast factor,
a distractor (another class's pattern at weight up to 0.5) and pixel noise, so that small nets
learn it well above chance but not perfectly (about 85-90% test accuracy for an MLP on 2,000
28x28 training images of 10 classes).

Extras: ``labels_orig``, ``flipped`` (train label flips), ``ambiguous`` (blended examples),
``rare`` (drawn from a rare sub-prototype). Prototypes, the train split and the test split come
from independent child seeds, so changing ``n_test`` leaves the training examples unchanged.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from pointwise.data.label_noise import noisy_labels
from pointwise.data.store import ImageDataset

GRATING = 1.0           # weight of the class's plane wave relative to its smooth random field
SUB_FREQ = np.array([0.76, 0.12, 0.08, 0.04])   # sub-prototype 0 is the common one, 1.. are rare
RARE_WEIGHT = 0.55      # share of the class pattern in a rare sub-prototype (the rest is its own)
CUE_STD = 0.3           # per-class brightness/colour offset, in prototype standard deviations
CONTRAST = (0.6, 1.2)   # per-example contrast factor range
DISTRACTOR = 0.5        # max weight of another class's pattern mixed into a regular example
BLEND = (0.45, 0.55)    # label-class weight of an ambiguous example
NOISE_STD = 1.2         # pixel noise per sqrt(channel), in prototype standard deviations: the
                        # per-channel noise grows with sqrt(channels), so difficulty is channel-free
GREY_STD = 50.0         # grey levels per standard deviation of a noisy pixel (around 128)


def make_synthetic(n_train: int, n_test: int, num_classes: int, channels: int = 1, size: int = 28,
                   seed: int = 0, flip_fraction: float = 0.0, ambiguous_fraction: float = 0.0,
                   name: str = "synthetic") -> ImageDataset:
    """Generate ``n_train`` + ``n_test`` uint8 images [channels, size, size] of ``num_classes``
    balanced classes. Exactly round(flip_fraction * n_train) training labels are flipped to
    another class and round(ambiguous_fraction * n) examples of each split are blends.
    Same arguments -> byte-identical arrays."""
    if num_classes < 2 or channels < 1 or size < 4 or n_train < 1 or n_test < 0:
        raise ValueError(f"synthetic: need num_classes >= 2, channels >= 1, size >= 4, n_train >= 1, "
                         f"n_test >= 0; got {num_classes}, {channels}, {size}, {n_train}, {n_test}")
    for key, frac in (("flip_fraction", flip_fraction), ("ambiguous_fraction", ambiguous_fraction)):
        if not 0.0 <= frac <= 1.0:
            raise ValueError(f"synthetic: {key} must be in [0, 1], got {frac}")
    proto_ss, train_ss, test_ss, flip_ss = np.random.SeedSequence(seed).spawn(4)
    protos, cues = _prototypes(np.random.default_rng(proto_ss), num_classes, channels, size)
    parts = [_sample(np.random.default_rng(ss), n, protos, cues, ambiguous_fraction)
             for ss, n in ((train_ss, n_train), (test_ss, n_test))]
    images = np.concatenate([p[0] for p in parts])
    labels_orig = np.concatenate([p[1] for p in parts])
    ambiguous = np.concatenate([p[2] for p in parts])
    rare = np.concatenate([p[3] for p in parts])
    labels = labels_orig.copy()
    labels[:n_train], _ = noisy_labels(labels_orig[:n_train], num_classes, flip_fraction, "other_class",
                                       np.random.default_rng(flip_ss))
    return ImageDataset(
        name=name, images=images, labels=labels, ids=np.arange(len(labels), dtype=np.int64),
        split=np.repeat(np.array([0, 1], dtype=np.uint8), [n_train, n_test]),
        num_classes=num_classes, class_names=[f"class{c}" for c in range(num_classes)],
        split_names=["train", "test"],
        extras={"labels_orig": labels_orig, "flipped": labels != labels_orig,
                "ambiguous": ambiguous, "rare": rare},
        attrs={"generator": "pointwise.data.synthetic", "seed": int(seed)},
    )


def smooth_patterns(rng: np.random.Generator, shape: tuple, size: int) -> np.ndarray:
    """Smooth periodic random fields [*shape, size, size], each with mean 0 and std 1."""
    white = rng.standard_normal(tuple(shape) + (size, size)).astype(np.float32)
    sigma = (0,) * len(shape) + (size / 7, size / 7)
    field = ndimage.gaussian_filter(white, sigma=sigma, mode="wrap")
    field -= field.mean(axis=(-2, -1), keepdims=True)
    field /= field.std(axis=(-2, -1), keepdims=True) + 1e-8
    return field


def _prototypes(rng, num_classes: int, channels: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Sub-prototypes [C, K, ch, S, S] (k=0 the class pattern, k>0 rare variants) and cues [C, ch]."""
    base = smooth_patterns(rng, (num_classes, 1, channels), size)
    base = (base + GRATING * _gratings(rng, num_classes, channels, size)) / np.sqrt(1 + GRATING ** 2)
    own = smooth_patterns(rng, (num_classes, len(SUB_FREQ), channels), size)
    w = np.full((1, len(SUB_FREQ), 1, 1, 1), RARE_WEIGHT, dtype=np.float32)
    w[0, 0] = 1.0
    protos = w * base + np.sqrt(1 - w ** 2) * own
    cues = (CUE_STD * rng.standard_normal((num_classes, channels))).astype(np.float32)
    return protos, cues


def _gratings(rng, num_classes: int, channels: int, size: int) -> np.ndarray:
    """Per-class plane waves [C, 1, ch, S, S] with distinct integer wave vectors (seamless under
    circular shifts), so that classes also differ in local texture, not only in layout."""
    kmax = max(2.0, size / 5)               # at most ~size/5 cycles per image: smooth, below Nyquist
    r = np.arange(-int(kmax), int(kmax) + 1)
    k = np.stack(np.meshgrid(r, r, indexing="ij"), -1).reshape(-1, 2)
    norm = np.hypot(k[:, 0], k[:, 1])
    k = k[(norm >= min(1.5, kmax - 0.5)) & (norm <= kmax) & ((k[:, 0] > 0) | ((k[:, 0] == 0) & (k[:, 1] > 0)))]
    k = k[rng.permutation(len(k))][np.arange(num_classes) % len(k)]
    phase = rng.uniform(0, 2 * np.pi, size=(num_classes, channels))
    yy, xx = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    arg = 2 * np.pi * (k[:, 0, None, None] * yy + k[:, 1, None, None] * xx) / size
    waves = np.sqrt(2) * np.cos(arg[:, None] + phase[:, :, None, None])
    return waves[:, None].astype(np.float32)


def _sample(rng, n: int, protos: np.ndarray, cues: np.ndarray, ambiguous_fraction: float):
    """n examples: (uint8 images [n, ch, S, S], labels, ambiguous mask, rare mask)."""
    C, _, ch, S, _ = protos.shape
    labels = rng.permutation(np.arange(n) % C)
    sub = rng.choice(len(SUB_FREQ), size=n, p=SUB_FREQ)
    other = (labels + rng.integers(1, C, size=n)) % C
    weight = rng.uniform(0, DISTRACTOR, size=n).astype(np.float32)
    ambiguous = np.zeros(n, dtype=bool)
    ambiguous[rng.choice(n, size=round(ambiguous_fraction * n), replace=False)] = True
    lam = rng.uniform(*BLEND, size=n).astype(np.float32)
    own = np.where(ambiguous, lam, 1.0).astype(np.float32)
    weight = np.where(ambiguous, 1 - lam, weight).astype(np.float32)
    sub = np.where(ambiguous, 0, sub)
    m = max(1, S // 7)                       # largest circular shift, about 1/7 of the image side
    oy, ox = rng.integers(-m, m + 1, size=n) % S, rng.integers(-m, m + 1, size=n) % S
    windows = _shift_windows(protos)         # [C, K, ch, S, S, S, S] view: window (oy, ox)
    x = windows[labels, sub, :, oy, ox]      # one gather picks prototype and shift together
    x *= own[:, None, None, None]
    x += weight[:, None, None, None] * windows[other, 0, :, oy, ox]
    x *= rng.uniform(*CONTRAST, size=n).astype(np.float32)[:, None, None, None]
    x += (own[:, None] * cues[labels] + weight[:, None] * cues[other])[:, :, None, None]
    noise_std = NOISE_STD * np.sqrt(ch)
    noise = rng.standard_normal(x.shape, dtype=np.float32)
    noise *= noise_std
    x += noise
    x *= GREY_STD / np.sqrt(1 + noise_std ** 2)   # in place: allocation dominates at this size
    x += 128
    np.rint(x, out=x)
    np.clip(x, 0, 255, out=x)
    images = x.astype(np.uint8)
    return images, labels.astype(np.int64), ambiguous, sub > 0


def _shift_windows(protos: np.ndarray) -> np.ndarray:
    """A view in which ``[..., oy, ox, :, :]`` is every pattern circularly shifted by (-oy, -ox):
    sliding S x S windows over the patterns tiled 2 x 2 (no copy beyond the tiling)."""
    S = protos.shape[-1]
    tiled = np.tile(protos, (1,) * (protos.ndim - 2) + (2, 2))[..., : 2 * S - 1, : 2 * S - 1]
    return np.lib.stride_tricks.sliding_window_view(tiled, (S, S), axis=(-2, -1))
