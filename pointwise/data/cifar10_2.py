"""CIFAR-10.2 (Lu et al. 2020): a second CIFAR-10 reproduction, paper 000's Fig. 12 set.

``cifar102_train.npz`` (10,000) and ``cifar102_test.npz`` (2,000), each with ``images`` uint8
[N, 32, 32, 3] and ``labels`` in CIFAR-10 class order (spec 000 §5).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pointwise.data.cifar import CIFAR10_CLASSES
from pointwise.data.cifar10_1 import nhwc_images
from pointwise.data.errors import DataMissingError, source_error
from pointwise.data.store import ImageDataset
from pointwise.provenance import sha256_file

FILES = {"train": "cifar102_train.npz", "test": "cifar102_test.npz"}


def how_to_obtain(name: str = "cifar10_2") -> str:
    return ("download cifar102_train.npz and cifar102_test.npz from "
            f"https://github.com/modestyachts/cifar-10.2 into the directory `datasets.{name}.path` "
            "(no torchvision download exists for CIFAR-10.2)")


def load_cifar10_2(path, name: str = "cifar10_2") -> ImageDataset:
    """CIFAR-10.2 as uint8 images [N, 3, 32, 32]: train rows, then test."""
    path, how = Path(path), how_to_obtain(name)
    missing = [f for f in FILES.values() if not (path / f).is_file()]
    if missing:
        raise DataMissingError(name, path, how, detail=f"missing {', '.join(missing)}")
    images, labels = [], []
    for f in FILES.values():
        try:
            with np.load(path / f, allow_pickle=False) as z:
                x, y = z["images"], z["labels"]
        except Exception as exc:  # bad zip, missing key, truncated member
            raise source_error(name, path / f, how, exc) from exc
        x, y = nhwc_images(x, y, len(CIFAR10_CLASSES), path / f, name, how)
        images.append(x)
        labels.append(y)
    counts = [len(y) for y in labels]
    return ImageDataset(
        name=name, images=np.concatenate(images), labels=np.concatenate(labels),
        ids=np.arange(sum(counts), dtype=np.int64),
        split=np.repeat(np.arange(len(counts), dtype=np.uint8), counts),
        num_classes=len(CIFAR10_CLASSES), class_names=list(CIFAR10_CLASSES), split_names=list(FILES),
        source_sha256={f: sha256_file(path / f) for f in FILES.values()},
    )
