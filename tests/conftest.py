"""Shared fixtures: a tiny learnable image dataset in the workflow's HDF5 format."""
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pointwise.data.store import ImageDataset, write_dataset  # noqa: E402


def toy_dataset(n_train=120, n_test=40, classes=4, size=12, seed=0) -> ImageDataset:
    """Class prototypes plus noise: small nets learn it within a few steps."""
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    protos = rng.integers(0, 256, (classes, 1, size, size))
    y = rng.integers(0, classes, n)
    imgs = np.clip(protos[y] + rng.normal(0, 50, (n, 1, size, size)), 0, 255).astype(np.uint8)
    split = (np.arange(n) >= n_train).astype(np.uint8)
    return ImageDataset("toy", imgs, y, np.arange(n) + 1000, split, classes)


@pytest.fixture
def toy_h5(tmp_path):
    path = tmp_path / "toy.h5"
    write_dataset(toy_dataset(), path)
    return path
