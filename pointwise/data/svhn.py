"""SVHN cropped digits (Netzer et al. 2011), format 2: ``{train,test,extra}_32x32.mat``.

One of paper 002's four datasets (73,257 train / 26,032 test; spec 002 §4 leaves "extra"
unused, so it is opt-in). Each file holds ``X`` uint8 [32, 32, 3, N] and ``y`` [N, 1] where the
digit 0 is stored as label 10; labels here are the digits themselves (10 -> 0).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pointwise.data.errors import DataMissingError, source_error
from pointwise.data.store import ImageDataset
from pointwise.provenance import sha256_file

CLASS_NAMES = [str(d) for d in range(10)]


def how_to_obtain(name: str = "svhn") -> str:
    return ("download http://ufldl.stanford.edu/housenumbers/{train,test,extra}_32x32.mat into "
            f"the directory `datasets.{name}.path`, or set `download: true` on a machine with "
            "torchvision and network access (same as `python -m pointwise.data.download svhn DIR`)")


def split_files(include_extra: bool = False) -> dict[str, str]:
    splits = ["train", "test"] + (["extra"] if include_extra else [])
    return {s: f"{s}_32x32.mat" for s in splits}


def load_svhn(path, include_extra: bool = False, name: str = "svhn") -> ImageDataset:
    """SVHN as uint8 images [N, 3, 32, 32]: train rows, then test, then (optionally) extra."""
    path, how = Path(path), how_to_obtain(name)
    files = split_files(include_extra)
    missing = [f for f in files.values() if not (path / f).is_file()]
    if missing:
        raise DataMissingError(name, path, how, detail=f"missing {', '.join(missing)}")
    images, labels = [], []
    for f in files.values():
        x, y = _read_mat(path / f, name, how)
        images.append(x)
        labels.append(y)
    counts = [len(y) for y in labels]
    return ImageDataset(
        name=name, images=np.concatenate(images), labels=np.concatenate(labels),
        ids=np.arange(sum(counts), dtype=np.int64),
        split=np.repeat(np.arange(len(counts), dtype=np.uint8), counts),
        num_classes=10, class_names=list(CLASS_NAMES), split_names=list(files),
        source_sha256={f: sha256_file(path / f) for f in files.values()},
    )


def _read_mat(file: Path, name: str, how: str) -> tuple[np.ndarray, np.ndarray]:
    from scipy.io import loadmat  # scipy.io is only needed here; keep `import pointwise.data` light
    try:
        mat = loadmat(file, variable_names=["X", "y"])
        x, y = mat["X"], np.asarray(mat["y"]).reshape(-1)
        if x.dtype != np.uint8 or x.shape[:3] != (32, 32, 3) or x.ndim != 4 or x.shape[3] != len(y):
            raise ValueError(f"X is {x.dtype} {x.shape} with {len(y)} labels; expected uint8 "
                             f"[32, 32, 3, N] and N labels")
        y = y.astype(np.int64)
        if len(y) and (y.min() < 0 or y.max() > 10):
            raise ValueError("labels outside 0..10")
    except Exception as exc:  # scipy raises ValueError/TypeError/OSError/KeyError on bad files
        raise source_error(name, file, how, exc) from exc
    return np.ascontiguousarray(x.transpose(3, 2, 0, 1)), np.where(y == 10, 0, y)
