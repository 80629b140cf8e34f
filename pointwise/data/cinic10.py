"""CINIC-10 (Darlow et al. 2018): ``{train,valid,test}/{class}/*.png``, 32x32 RGB.

Paper 000 builds CIFAR-10-Neg from its test split (spec 000 §3.7) and excludes the CIFAR-origin
files (E14): those are named ``cifar10-*`` (spec text: ``cifar-10-*``; both prefixes count), the
rest come from ImageNet. ``imagenet_only`` keeps the ImageNet part; the extra ``from_cifar``
marks CIFAR-origin rows otherwise. Files are read in sorted order per split and class, so ids
are stable. With ~270k files the per-file read is unavoidable; decoding runs in a thread pool
(PIL releases the GIL while decoding).
"""
from __future__ import annotations

import hashlib
import io
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from pointwise.data.cifar import CIFAR10_CLASSES
from pointwise.data.errors import DataMissingError, source_error
from pointwise.data.store import ImageDataset

SPLITS = ("train", "valid", "test")
CIFAR_PREFIXES = ("cifar10-", "cifar-10-")


def how_to_obtain(name: str = "cinic10") -> str:
    return ("download CINIC-10.tar.gz from https://datashare.ed.ac.uk/handle/10283/3192 and extract "
            f"it so that `datasets.{name}.path` holds train/, valid/ and test/ (one folder per "
            "class); no torchvision download exists for CINIC-10")


def list_files(path, imagenet_only: bool = False) -> dict[str, list[tuple[Path, int]]]:
    """split -> sorted [(png file, class index)], in CIFAR-10 class order."""
    path = Path(path)
    out = {}
    for split in SPLITS:
        rows = []
        for c, cls in enumerate(CIFAR10_CLASSES):
            folder = path / split / cls
            if not folder.is_dir():
                raise FileNotFoundError(f"missing folder {folder}")
            names = sorted(f for f in os.listdir(folder) if f.lower().endswith(".png"))
            if imagenet_only:
                names = [f for f in names if not f.startswith(CIFAR_PREFIXES)]
            rows += [(folder / f, c) for f in names]
        out[split] = rows
    return out


def load_cinic10(path, imagenet_only: bool = False, name: str = "cinic10",
                 workers: int | None = None) -> ImageDataset:
    """CINIC-10 as uint8 images [N, 3, 32, 32]; splits train, valid, test in that order.

    ``source_sha256`` holds one digest per split over (relative path, file bytes) of every file
    read: a per-file manifest of 270k entries would not fit an HDF5 attribute."""
    path, how = Path(path), how_to_obtain(name)
    try:
        files = list_files(path, imagenet_only)
    except FileNotFoundError as exc:
        raise DataMissingError(name, path, how, detail=str(exc)) from exc
    rows = [r for split in SPLITS for r in files[split]]
    images = np.empty((len(rows), 3, 32, 32), dtype=np.uint8)
    digests = []

    def read(i: int) -> bytes:
        """Decode row i into ``images``; return the file's sha256 digest."""
        file = rows[i][0]
        try:
            raw = file.read_bytes()
            images[i] = _decode(raw)
        except Exception as exc:  # unreadable, truncated or wrong-sized PNG
            raise source_error(name, file, how, exc) from exc
        return hashlib.sha256(raw).digest()

    with ThreadPoolExecutor(max_workers=workers or min(8, os.cpu_count() or 1)) as pool:
        for digest, (file, _) in zip(pool.map(read, range(len(rows))), rows):
            digests.append((file.relative_to(path).as_posix(), digest))
    counts = [len(files[s]) for s in SPLITS]
    sha = {}
    start = 0
    for split, n in zip(SPLITS, counts):
        h = hashlib.sha256()
        for rel, digest in digests[start:start + n]:
            h.update(rel.encode() + b"\0" + digest)
        sha[f"{split}/ ({n} files)"] = h.hexdigest()
        start += n
    from_cifar = np.array([f.name.startswith(CIFAR_PREFIXES) for f, _ in rows], dtype=bool)
    return ImageDataset(
        name=name, images=images, labels=np.array([c for _, c in rows], dtype=np.int64),
        ids=np.arange(len(rows), dtype=np.int64),
        split=np.repeat(np.arange(len(SPLITS), dtype=np.uint8), counts),
        num_classes=len(CIFAR10_CLASSES), class_names=list(CIFAR10_CLASSES), split_names=list(SPLITS),
        source_sha256=sha, extras={"from_cifar": from_cifar},
        attrs={"imagenet_only": bool(imagenet_only)},
    )


def _decode(raw: bytes) -> np.ndarray:
    """PNG bytes -> uint8 [3, 32, 32] (grey or palette images converted to RGB, as CINIC has a few)."""
    from PIL import Image  # optional at import time: only CINIC needs PIL
    with Image.open(io.BytesIO(raw)) as im:
        arr = np.asarray(im.convert("RGB"))
    if arr.shape != (32, 32, 3):
        raise ValueError(f"image is {arr.shape[1]}x{arr.shape[0]}, expected 32x32")
    return arr.transpose(2, 0, 1)
