"""The one on-disk dataset format of the workflow: ``data/{dataset}.h5``.

Layout (all arrays share the leading example axis N):

- ``images``  uint8 [N, C, H, W]  (channels first, ready to go onto the device as one tensor)
- ``labels``  int64 [N]           the labels training uses (noisy labels for label-noise variants)
- ``ids``     int64 [N]           stable example ids; derived sets keep their parent's ids
- ``split``   uint8 [N]           index into the ``split_names`` attribute (e.g. 0=train, 1=test)
- optional extra per-example arrays (e.g. ``labels_orig``, ``flipped`` for label noise,
  ``severity``); any 1-D array of length N under ``extras/``.

Attributes: ``name``, ``num_classes``, ``class_names`` (JSON), ``split_names`` (JSON),
``source_sha256`` (JSON {file: sha256}) and the provenance record (see pointwise.provenance).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from pointwise.io import atomic_path, set_h5_attrs

SPLITS = ("train", "test")


@dataclass
class ImageDataset:
    """An in-memory dataset in the workflow's canonical layout (see module docstring)."""

    name: str
    images: np.ndarray          # uint8 [N, C, H, W]
    labels: np.ndarray          # int64 [N]
    ids: np.ndarray             # int64 [N]
    split: np.ndarray           # uint8 [N]
    num_classes: int
    class_names: list[str] = field(default_factory=list)
    split_names: list[str] = field(default_factory=lambda: list(SPLITS))
    source_sha256: dict[str, str] = field(default_factory=dict)
    extras: dict[str, np.ndarray] = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)   # provenance and derivation details

    def __post_init__(self):
        n = len(self.images)
        if self.images.dtype != np.uint8 or self.images.ndim != 4:
            raise ValueError(f"{self.name}: images must be uint8 [N, C, H, W], got "
                             f"{self.images.dtype} {self.images.shape}")
        for key in ("labels", "ids", "split"):
            if len(getattr(self, key)) != n:
                raise ValueError(f"{self.name}: '{key}' has {len(getattr(self, key))} rows, images have {n}")
        for key, arr in self.extras.items():
            if len(arr) != n:
                raise ValueError(f"{self.name}: extra '{key}' has {len(arr)} rows, images have {n}")
        if len(np.unique(self.ids)) != n:
            raise ValueError(f"{self.name}: example ids are not unique")
        self.labels = np.asarray(self.labels, dtype=np.int64)
        self.ids = np.asarray(self.ids, dtype=np.int64)
        self.split = np.asarray(self.split, dtype=np.uint8)
        if not self.class_names:
            self.class_names = [str(c) for c in range(self.num_classes)]

    def __len__(self) -> int:
        return len(self.images)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        return tuple(self.images.shape[1:])

    def split_index(self, name: str) -> np.ndarray:
        """Row indices of the examples in split ``name``."""
        if name not in self.split_names:
            raise KeyError(f"{self.name}: no split '{name}' (has {self.split_names})")
        return np.flatnonzero(self.split == self.split_names.index(name))

    def subset(self, rows: np.ndarray, name: str | None = None) -> "ImageDataset":
        """The examples at ``rows`` (ids, splits and extras kept)."""
        rows = np.asarray(rows)
        return ImageDataset(
            name=name or self.name, images=self.images[rows], labels=self.labels[rows],
            ids=self.ids[rows], split=self.split[rows], num_classes=self.num_classes,
            class_names=list(self.class_names), split_names=list(self.split_names),
            source_sha256=dict(self.source_sha256),
            extras={k: v[rows] for k, v in self.extras.items()}, attrs=dict(self.attrs),
        )


def write_dataset(ds: ImageDataset, path, provenance: dict | None = None) -> None:
    """Write ``ds`` to ``path`` atomically in the canonical HDF5 layout."""
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            f.create_dataset("images", data=ds.images, compression="gzip", compression_opts=1,
                             chunks=(max(1, min(len(ds), 1024)),) + ds.images.shape[1:],
                             maxshape=None if len(ds) else (None,) + ds.images.shape[1:])
            f.create_dataset("labels", data=ds.labels)
            f.create_dataset("ids", data=ds.ids)
            f.create_dataset("split", data=ds.split)
            g = f.create_group("extras")
            for key, arr in ds.extras.items():
                g.create_dataset(key, data=arr)
            set_h5_attrs(f, {
                "name": ds.name, "num_classes": int(ds.num_classes),
                "class_names": ds.class_names, "split_names": ds.split_names,
                "source_sha256": ds.source_sha256, "derivation": ds.attrs,
            })
            if provenance:
                set_h5_attrs(f, provenance)


def read_dataset(path) -> ImageDataset:
    """Read a dataset written by :func:`write_dataset`."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"dataset file '{path}' does not exist; build it with "
                                f"`snakemake {path}`")
    with h5py.File(path, "r") as f:
        a = f.attrs
        return ImageDataset(
            name=str(a["name"]), images=f["images"][()], labels=f["labels"][()],
            ids=f["ids"][()], split=f["split"][()], num_classes=int(a["num_classes"]),
            class_names=json.loads(a["class_names"]), split_names=json.loads(a["split_names"]),
            source_sha256=json.loads(a["source_sha256"]),
            extras={k: v[()] for k, v in f["extras"].items()},
            attrs=json.loads(a["derivation"]) if "derivation" in a else {},
        )
