"""The workflow's one entry to the data layer: ``data/{dataset}.h5`` from a dataset spec.

A spec either names a source (published files, optionally downloaded; or the synthetic
generator) or derives from a parent HDF5 (balanced subset, label noise, one corruption rung,
downsampling, a broader sub-class pretraining source).
Source datasets number their examples 0..N-1 in canonical order (train, then test, then any
further split), so ids are stable across builds; derived datasets keep their parent's ids, class
names and splits and record the derivation in ``attrs``. The key set of each spec is the one the
config schema (schemas/config.schema.yaml, ``$defs.dataset``) validates.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

from pointwise.data import cifar, cifar10_1, cifar10_2, cinic10, fashion_mnist, svhn
from pointwise.data.broad_source import broad_source
from pointwise.data.corruptions import corrupt_dataset
from pointwise.data.downsample import downsample
from pointwise.data.errors import DataMissingError
from pointwise.data.label_noise import add_label_noise
from pointwise.data.store import ImageDataset, read_dataset, write_dataset
from pointwise.data.subsets import balanced_subset
from pointwise.data.synthetic import make_synthetic
from pointwise.provenance import provenance

FILE_SOURCES = ("fashion_mnist", "cifar10", "cifar100", "svhn", "cifar10_1", "cifar10_2", "cinic10")
DERIVATIONS = ("balanced_subset", "label_noise", "corruption", "downsample", "broad_source")


def how_to_obtain(source: str, name: str, spec: Mapping | None = None) -> str:
    """Instructions for getting ``source``'s files, phrased for config dataset ``name``."""
    spec = spec or {}
    if source == "fashion_mnist":
        return fashion_mnist.how_to_obtain(name)
    if source in ("cifar10", "cifar100"):
        return cifar.how_to_obtain(source, name)
    if source == "svhn":
        return svhn.how_to_obtain(name)
    if source == "cifar10_1":
        return cifar10_1.how_to_obtain(name, spec.get("version", "v6"))
    if source == "cifar10_2":
        return cifar10_2.how_to_obtain(name)
    if source == "cinic10":
        return cinic10.how_to_obtain(name)
    raise ValueError(f"dataset '{name}': unknown source {source!r}; valid: {', '.join(FILE_SOURCES)}, synthetic")


def read_source(name: str, spec: Mapping) -> ImageDataset:
    """Read a file source's published files from ``spec['path']`` (no download); the source and
    its options go into ``attrs``."""
    source, path = spec["source"], Path(os.path.expanduser(str(spec["path"])))
    readers = {
        "fashion_mnist": lambda: fashion_mnist.load_fashion_mnist(path, name=name),
        "cifar10": lambda: cifar.load_cifar10(path, name=name),
        "cifar100": lambda: cifar.load_cifar100(path, label_type=spec.get("label_type", "fine"), name=name),
        "svhn": lambda: svhn.load_svhn(path, include_extra=bool(spec.get("include_extra", False)), name=name),
        "cifar10_1": lambda: cifar10_1.load_cifar10_1(path, version=spec.get("version", "v6"), name=name),
        "cifar10_2": lambda: cifar10_2.load_cifar10_2(path, name=name),
        "cinic10": lambda: cinic10.load_cinic10(path, imagenet_only=bool(spec.get("imagenet_only", False)),
                                                name=name),
    }
    if source not in readers:
        raise ValueError(f"dataset '{name}': unknown source {source!r}; valid: {', '.join(FILE_SOURCES)}, synthetic")
    ds = readers[source]()
    options = {k: spec[k] for k in ("version", "label_type", "include_extra", "imagenet_only") if k in spec}
    ds.attrs = {"source": source, "path": str(spec["path"]), **options, **ds.attrs}
    return ds


def files_present(spec: Mapping) -> bool:
    """Whether a downloadable source's files are all where its reader looks (says nothing about
    whether they are intact)."""
    source, path = spec["source"], Path(os.path.expanduser(str(spec["path"])))
    if source == "fashion_mnist":
        return fashion_mnist.find_files(path) is not None
    if source == "cifar10":
        return cifar.find_dir(path, cifar.CIFAR10_DIR, cifar.CIFAR10_FILES) is not None
    if source == "cifar100":
        return cifar.find_dir(path, cifar.CIFAR100_DIR, {**cifar.CIFAR100_FILES, "meta": ["meta"]}) is not None
    if source == "svhn":
        files = svhn.split_files(bool(spec.get("include_extra", False))).values()
        return all((path / f).is_file() for f in files)
    return True


def load_source(name: str, spec: Mapping) -> ImageDataset:
    """A source dataset: synthetic, or read from files (downloaded first if missing and
    ``download: true``). Missing or corrupt files raise DataMissingError."""
    source = spec.get("source")
    if source == "synthetic":
        return make_synthetic(
            n_train=int(spec["n_train"]), n_test=int(spec["n_test"]), num_classes=int(spec["num_classes"]),
            channels=int(spec.get("channels", 1)), size=int(spec["size"]), seed=int(spec.get("seed", 0)),
            flip_fraction=float(spec.get("flip_fraction", 0.0)),
            ambiguous_fraction=float(spec.get("ambiguous_fraction", 0.0)), name=name)
    from pointwise.data import download   # here, so `python -m pointwise.data.download` imports it once
    how = how_to_obtain(source, name, spec)
    if spec.get("download", False) and source not in download.SOURCES:
        try:
            return read_source(name, spec)
        except DataMissingError as exc:
            raise DataMissingError(name, exc.path, how, detail=f"{exc.detail}; `download: true` is "
                                   f"not available for source '{source}'") from exc
    if spec.get("download", False) and not files_present(spec):
        try:
            download.download(source, Path(os.path.expanduser(str(spec["path"]))),
                               include_extra=bool(spec.get("include_extra", False)))
        except DataMissingError as exc:
            raise DataMissingError(name, spec["path"], how, detail=exc.detail) from exc
    return read_source(name, spec)


def derive(name: str, spec: Mapping, parent: ImageDataset) -> ImageDataset:
    """A derived dataset from its parent, named ``name``; the derivation lands in ``attrs``."""
    kind, seed = spec.get("derive"), int(spec.get("seed", 0))
    if kind == "balanced_subset":
        ds = balanced_subset(parent, spec["per_class"], seed=seed, name=name)
    elif kind == "label_noise":
        ds = add_label_noise(parent, float(spec["fraction"]), mode=spec.get("mode", "other_class"),
                             split=spec.get("split", "train"), seed=seed, name=name)
    elif kind == "downsample":
        ds = downsample(parent, int(spec["factor"]), name=name)
    elif kind == "corruption":
        ds = corrupt_dataset(parent, spec["corruption"], int(spec["severity"]),
                             split=spec.get("split", "test"), seed=seed, name=name)
    elif kind == "broad_source":
        ds = broad_source(parent, int(spec["subclasses"]), exclude=spec.get("exclude"),
                          per_class=spec.get("per_class"), factor=spec.get("factor"), seed=seed, name=name)
    else:
        raise ValueError(f"dataset '{name}': unknown derivation {kind!r}; valid: {', '.join(DERIVATIONS)}")
    ds.attrs = {**ds.attrs, "parent": spec["parent"]}
    return ds


def build_dataset(name: str, spec: dict, out_path, parent_path=None, config=None) -> None:
    """Build dataset ``name`` from ``spec`` and write it atomically to ``out_path`` with its
    provenance (config hash, seed, parent checksum, the spec). Derived specs need ``parent_path``."""
    if "derive" in spec:
        if parent_path is None:
            raise ValueError(f"dataset '{name}' derives from '{spec.get('parent')}' but no parent file was given")
        ds = derive(name, spec, read_dataset(parent_path))
    elif "source" in spec:
        ds = load_source(name, spec)
    else:
        raise ValueError(f"dataset '{name}': spec needs 'source' or 'derive', got keys {sorted(spec)}")
    write_dataset(ds, out_path, provenance=provenance(
        config, seed=spec.get("seed"), inputs=[parent_path] if parent_path else [],
        dataset=name, spec=spec))
