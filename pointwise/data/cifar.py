"""CIFAR-10 and CIFAR-100 (Krizhevsky 2009) from the official "python version" pickles.

CIFAR-10 is the main dataset of papers 000, 001 and 003 and one of paper 002's four; CIFAR-100 is
paper 002's hardest dataset and paper 000's pretraining analogue (spec 000 §5). The pickles store
``b'data'`` as uint8 [N, 3072] in channel-first order, so rows reshape to [N, 3, 32, 32] with no
copy of pixel order. ``path`` may be the extracted folder itself or its parent (torchvision's
``root``). Pickles run code when loaded: point ``path`` only at files you trust.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from pointwise.data.errors import DataMissingError, source_error
from pointwise.data.store import ImageDataset
from pointwise.provenance import sha256_file

CIFAR10_DIR, CIFAR100_DIR = "cifar-10-batches-py", "cifar-100-python"
CIFAR10_FILES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
CIFAR100_FILES = {"train": ["train"], "test": ["test"]}
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck"]


def how_to_obtain(source: str, name: str) -> str:
    url, folder = {"cifar10": ("cifar-10-python.tar.gz", CIFAR10_DIR),
                   "cifar100": ("cifar-100-python.tar.gz", CIFAR100_DIR)}[source]
    return (f"download https://www.cs.toronto.edu/~kriz/{url} and extract it so that "
            f"`datasets.{name}.path` is (or contains) {folder}/, or set `download: true` on a "
            f"machine with torchvision and network access (same as "
            f"`python -m pointwise.data.download {source} DIR`)")


def find_dir(path, folder: str, files: dict[str, list[str]]) -> Path | None:
    """The directory holding all batch files: ``path`` itself or ``path/folder``; None if neither."""
    path = Path(path)
    for d in (path, path / folder):
        if all((d / f).is_file() for fs in files.values() for f in fs):
            return d
    return None


def load_cifar10(path, name: str = "cifar10") -> ImageDataset:
    """CIFAR-10: uint8 images [60000, 3, 32, 32], 50,000 train rows (batches 1..5) then 10,000 test."""
    how = how_to_obtain("cifar10", name)
    d = _require(path, CIFAR10_DIR, CIFAR10_FILES, name, how)
    meta = _unpickle(d / "batches.meta", name, how) if (d / "batches.meta").is_file() else {}
    classes = [_text(c) for c in meta.get("label_names", CIFAR10_CLASSES)]
    ds = _assemble(d, CIFAR10_FILES, "labels", classes, name, how)
    if meta:
        ds.source_sha256["batches.meta"] = sha256_file(d / "batches.meta")
    return ds


def load_cifar100(path, label_type: str = "fine", name: str = "cifar100") -> ImageDataset:
    """CIFAR-100: uint8 images [60000, 3, 32, 32], train then test, with the 100 ``fine`` or the
    20 ``coarse`` (superclass) labels; class names from ``meta``."""
    if label_type not in ("fine", "coarse"):
        raise ValueError(f"{name}: label_type must be 'fine' or 'coarse', got {label_type!r}")
    how = how_to_obtain("cifar100", name)
    d = _require(path, CIFAR100_DIR, {**CIFAR100_FILES, "meta": ["meta"]}, name, how)
    meta = _unpickle(d / "meta", name, how)
    key = f"{label_type}_label_names"
    if key not in meta:
        raise DataMissingError(name, d / "meta", how, detail=f"meta has no '{key}'")
    ds = _assemble(d, CIFAR100_FILES, f"{label_type}_labels", [_text(c) for c in meta[key]], name, how)
    ds.source_sha256["meta"] = sha256_file(d / "meta")
    ds.attrs["label_type"] = label_type
    return ds


def _require(path, folder, files, name, how) -> Path:
    d = find_dir(path, folder, files)
    if d is None:
        wanted = ", ".join(f for fs in files.values() for f in fs)
        raise DataMissingError(name, path, how, detail=f"expected {folder}/ with {wanted}")
    return d


def _assemble(d: Path, files: dict[str, list[str]], label_key: str, classes: list[str],
              name: str, how: str) -> ImageDataset:
    images, labels, counts = [], [], []
    for split_files in files.values():
        n = 0
        for f in split_files:
            batch = _unpickle(d / f, name, how)
            try:
                x = np.asarray(batch["data"])
                y = np.asarray(batch[label_key], dtype=np.int64)
                if x.dtype != np.uint8 or x.ndim != 2 or x.shape[1] != 3 * 32 * 32 or len(y) != len(x):
                    raise ValueError(f"data {x.dtype} {x.shape} with {len(y)} labels; expected "
                                     f"uint8 [N, 3072] and N labels")
                if len(y) and (y.min() < 0 or y.max() >= len(classes)):
                    raise ValueError(f"labels outside 0..{len(classes) - 1}")
            except (KeyError, ValueError, TypeError) as exc:
                raise source_error(name, d / f, how, exc) from exc
            images.append(x.reshape(-1, 3, 32, 32))
            labels.append(y)
            n += len(y)
        counts.append(n)
    return ImageDataset(
        name=name, images=np.concatenate(images), labels=np.concatenate(labels),
        ids=np.arange(sum(counts), dtype=np.int64),
        split=np.repeat(np.arange(len(counts), dtype=np.uint8), counts),
        num_classes=len(classes), class_names=classes, split_names=list(files),
        source_sha256={f: sha256_file(d / f) for fs in files.values() for f in fs},
    )


def _unpickle(file: Path, name: str, how: str) -> dict:
    """A CIFAR pickle as a dict with str keys (the files use bytes keys under Python 3)."""
    try:
        with open(file, "rb") as fh:
            obj = pickle.load(fh, encoding="bytes")
        if not isinstance(obj, dict):
            raise TypeError(f"expected a dict, got {type(obj).__name__}")
    except Exception as exc:  # any unpickling failure means a corrupt source file
        raise source_error(name, file, how, exc) from exc
    return {_text(k): v for k, v in obj.items()}


def _text(s) -> str:
    return s.decode("utf-8") if isinstance(s, bytes) else str(s)
