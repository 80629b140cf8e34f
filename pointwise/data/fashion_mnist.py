"""Fashion-MNIST (Xiao et al. 2017) from its four IDX files: the default-scale dataset of the
workflow (DESIGN.md "Scales"; paper 002 spec §1 data availability) and one of paper 002's four.

Found in ``path`` itself (the Debian package ``dataset-fashion-mnist`` layout, e.g.
/usr/share/datasets/fashion-mnist/) or in ``path/FashionMNIST/raw`` (torchvision's layout);
``.gz`` or uncompressed. Canonical order: 60,000 train rows, then 10,000 test rows.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pointwise.data.errors import DataMissingError, source_error
from pointwise.data.idx import IdxFormatError, read_idx
from pointwise.data.store import ImageDataset
from pointwise.provenance import sha256_file

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
FILES = {  # split -> (images stem, labels stem)
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def how_to_obtain(name: str = "fashion_mnist") -> str:
    return ("install the Debian package (`apt-get install dataset-fashion-mnist`, files under "
            "/usr/share/datasets/fashion-mnist/), or set `datasets." + name + ".path` to a directory "
            "holding {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz, or set `download: true` on a "
            "machine with torchvision and network access (same as "
            "`python -m pointwise.data.download fashion_mnist DIR`)")


def find_files(path) -> dict[str, Path] | None:
    """stem -> file for all four IDX files under ``path`` (either layout), or None if any is missing."""
    path = Path(path)
    for folder in (path, path / "FashionMNIST" / "raw"):
        found = {}
        for stem in (s for pair in FILES.values() for s in pair):
            hit = next((folder / (stem + ext) for ext in (".gz", "") if (folder / (stem + ext)).is_file()), None)
            if hit is not None:
                found[stem] = hit
        if len(found) == 4:
            return found
    return None


def load_fashion_mnist(path, name: str = "fashion_mnist") -> ImageDataset:
    """Read Fashion-MNIST into uint8 images [70000, 1, 28, 28] (train first, then test).

    ``source_sha256`` maps each of the four file names to its sha256. Missing or corrupt files
    raise :class:`DataMissingError` naming ``name``, the path and how to obtain the data."""
    files = find_files(path)
    if files is None:
        raise DataMissingError(name, path, how_to_obtain(name),
                               detail="expected {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]")
    images, labels = [], []
    for img_stem, lab_stem in FILES.values():
        x, y = _read(files[img_stem], name), _read(files[lab_stem], name)
        problem = _check(x, y)
        if problem:
            raise DataMissingError(name, files[lab_stem], how_to_obtain(name), detail=problem)
        images.append(x[:, None])
        labels.append(y.astype(np.int64))
    n = [len(y) for y in labels]
    return ImageDataset(
        name=name, images=np.concatenate(images), labels=np.concatenate(labels),
        ids=np.arange(sum(n), dtype=np.int64), split=np.repeat(np.arange(2, dtype=np.uint8), n),
        num_classes=len(CLASS_NAMES), class_names=list(CLASS_NAMES), split_names=list(FILES),
        source_sha256={f.name: sha256_file(f) for f in files.values()},
    )


def _read(file: Path, name: str) -> np.ndarray:
    try:
        return read_idx(file)
    except (IdxFormatError, OSError) as exc:
        raise source_error(name, file, how_to_obtain(name), exc) from exc


def _check(x: np.ndarray, y: np.ndarray) -> str:
    """Why an (images, labels) pair is not a Fashion-MNIST split ('' if it is)."""
    if x.ndim != 3 or x.dtype != np.uint8:
        return f"images must be uint8 [N, H, W], got {x.dtype} {x.shape}"
    if y.ndim != 1 or len(y) != len(x):
        return f"{len(x)} images but labels of shape {y.shape}"
    if len(y) and (y.min() < 0 or y.max() >= len(CLASS_NAMES)):
        return f"labels outside 0..{len(CLASS_NAMES) - 1}"
    return ""
