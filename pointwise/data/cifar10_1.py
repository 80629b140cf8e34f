"""CIFAR-10.1 (Recht et al. 2018): the reproduced CIFAR-10 test set, paper 001's OOD set.

Files ``cifar10.1_{version}_data.npy`` (uint8 [N, 32, 32, 3]) and ``cifar10.1_{version}_labels.npy``
(ints in CIFAR-10 class order); v6 (2,000 images) is the default. Everything is split "test".
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pointwise.data.cifar import CIFAR10_CLASSES
from pointwise.data.errors import DataMissingError, source_error
from pointwise.data.store import ImageDataset
from pointwise.provenance import sha256_file


def how_to_obtain(name: str = "cifar10_1", version: str = "v6") -> str:
    return (f"download datasets/cifar10.1_{version}_data.npy and cifar10.1_{version}_labels.npy from "
            f"https://github.com/modestyachts/CIFAR-10.1 into the directory `datasets.{name}.path` "
            "(no torchvision download exists for CIFAR-10.1)")


def load_cifar10_1(path, version: str = "v6", name: str = "cifar10_1") -> ImageDataset:
    """CIFAR-10.1 ``version`` as uint8 images [N, 3, 32, 32], all in split "test"."""
    path, how = Path(path), how_to_obtain(name, version)
    files = [f"cifar10.1_{version}_data.npy", f"cifar10.1_{version}_labels.npy"]
    missing = [f for f in files if not (path / f).is_file()]
    if missing:
        raise DataMissingError(name, path, how, detail=f"missing {', '.join(missing)}")
    x = load_npy(path / files[0], name, how)
    y = load_npy(path / files[1], name, how)
    images, labels = nhwc_images(x, y, len(CIFAR10_CLASSES), path / files[0], name, how)
    return ImageDataset(
        name=name, images=images, labels=labels, ids=np.arange(len(labels), dtype=np.int64),
        split=np.zeros(len(labels), dtype=np.uint8), num_classes=len(CIFAR10_CLASSES),
        class_names=list(CIFAR10_CLASSES), split_names=["test"],
        source_sha256={f: sha256_file(path / f) for f in files},
        attrs={"version": version},
    )


def load_npy(file: Path, name: str, how: str) -> np.ndarray:
    """``np.load`` without pickles; a corrupt file raises DataMissingError with the detail."""
    try:
        return np.load(file, allow_pickle=False)
    except Exception as exc:  # ValueError/OSError/EOFError on bad or truncated files
        raise source_error(name, file, how, exc) from exc


def nhwc_images(x: np.ndarray, y: np.ndarray, num_classes: int, file: Path, name: str,
                how: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate uint8 [N, 32, 32, 3] images with N labels in range; return [N, 3, 32, 32], int64."""
    y = np.asarray(y).reshape(-1)
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[1:] != (32, 32, 3) or len(x) != len(y):
        raise DataMissingError(name, file, how, detail=f"images {x.dtype} {x.shape} with {len(y)} "
                               "labels; expected uint8 [N, 32, 32, 3] and N labels")
    if not np.issubdtype(y.dtype, np.integer) or (len(y) and (y.min() < 0 or y.max() >= num_classes)):
        raise DataMissingError(name, file, how, detail=f"labels must be integers in 0..{num_classes - 1}")
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2)), y.astype(np.int64)
