"""Designs: which pool examples each seed of an experiment trains on and which it holds out.

``designs/{experiment}.h5`` stores ``train_mask`` bool [seeds, pool] over the pool (the rows of
the training dataset's pool split), with the pool's rows and ids, so every later analysis knows
for each (run, example) whether the example was trained on or held out.

Kinds:
- ``full``: every seed trains on the whole pool (paper 002 FULL, paper 003).
- ``random_subset``: a fresh uniform subset of ``size`` per seed (paper 000: 10k of 50k).
- ``random_fraction``: a fresh random ``fraction`` per seed; exactly floor((1-fraction)·n) held out
  (paper 002 SPLIT, 90:10).
- ``kfold``: ``repeats`` random partitions into ``folds``; seed r·folds+f holds out fold f of
  repeat r, so every example is held out exactly ``repeats`` times (spec 002 §5.3 balanced design).
"""
from __future__ import annotations

import hashlib
import logging

import h5py
import numpy as np

from pointwise.io import atomic_path, set_h5_attrs

log = logging.getLogger("pointwise.designs")


def stable_seed(*parts) -> int:
    """A 63-bit seed derived from any printable parts; identical across machines and runs."""
    digest = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def run_seed(base_seed: int, experiment: str, seed: int) -> int:
    """The seed of run ``seed`` of ``experiment``: init, data order and augmentation derive from it.
    It does not depend on the arch, so seed s of two archs sees the same data order."""
    return stable_seed("run", base_seed, experiment, seed)


def _permute_classwise(rng: np.random.Generator, labels: np.ndarray) -> np.ndarray:
    """A random permutation whose every prefix is class-balanced (classes interleaved round-robin)."""
    order = rng.permutation(len(labels))
    rank = np.empty(len(labels), dtype=np.int64)
    for c in np.unique(labels):
        members = order[labels[order] == c]
        rank[members] = np.arange(len(members))
    return order[np.argsort(rank[order], kind="stable")]


def _fold_assignment(rng: np.random.Generator, n: int, folds: int, labels, stratified: bool) -> np.ndarray:
    """Fold index of every pool example; equal fold sizes (±1), per class too when stratified."""
    fold_of = np.empty(n, dtype=np.int64)
    if not stratified:
        fold_of[rng.permutation(n)] = np.arange(n) % folds
        return fold_of
    offset = 0
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        fold_of[members] = (np.arange(len(members)) + offset) % folds
        offset += len(members)          # continue the cycle so fold sizes stay balanced overall
    return fold_of


def make_design(kind: str, n_pool: int, seeds: int | None = None, *, rng_seed: int,
                labels: np.ndarray | None = None, size: int | None = None,
                fraction: float | None = None, folds: int | None = None,
                repeats: int | None = None, stratified: bool = False) -> np.ndarray:
    """Return train_mask bool [n_runs, n_pool] for one of the kinds in the module docstring."""
    rng = np.random.default_rng(rng_seed)
    if stratified and labels is None:
        raise ValueError("stratified designs need the pool labels")

    def permutation():
        return _permute_classwise(rng, labels) if stratified else rng.permutation(n_pool)

    if kind == "full":
        return np.ones((seeds, n_pool), dtype=bool)
    if kind == "random_subset":
        if not 0 < size <= n_pool:
            raise ValueError(f"random_subset size {size} must be in 1..{n_pool}")
        mask = np.zeros((seeds, n_pool), dtype=bool)
        for s in range(seeds):
            mask[s, permutation()[:size]] = True
        return mask
    if kind == "random_fraction":
        n_hold = int(np.floor((1.0 - fraction) * n_pool + 1e-9))
        mask = np.ones((seeds, n_pool), dtype=bool)
        for s in range(seeds):
            mask[s, permutation()[:n_hold]] = False
        return mask
    if kind == "kfold":
        mask = np.ones((folds * repeats, n_pool), dtype=bool)
        for r in range(repeats):
            fold_of = _fold_assignment(rng, n_pool, folds, labels, stratified)
            for f in range(folds):
                mask[r * folds + f, fold_of == f] = False
        return mask
    raise ValueError(f"unknown design kind '{kind}' (valid: full, random_subset, random_fraction, kfold)")


def write_design(out_path, mask: np.ndarray, ds, pool_rows: np.ndarray, experiment: str, base_seed: int,
                 attrs: dict) -> None:
    """Write a design file atomically: ``train_mask`` [runs, pool] over ``pool_rows`` of dataset
    ``ds``, the pool's ids and labels, each run's seed, and ``attrs`` (design, provenance)."""
    with atomic_path(out_path) as tmp:
        with h5py.File(tmp, "w") as f:
            f.create_dataset("train_mask", data=mask, compression="gzip", compression_opts=1)
            f.create_dataset("pool_rows", data=pool_rows.astype(np.int64))
            f.create_dataset("pool_ids", data=ds.ids[pool_rows])
            f.create_dataset("pool_labels", data=ds.labels[pool_rows])
            f.create_dataset("run_seeds", data=np.array(
                [run_seed(base_seed, experiment, s) for s in range(mask.shape[0])], dtype=np.int64))
            set_h5_attrs(f, {"experiment": experiment, "dataset": ds.name, **attrs})


def build_design(experiment: str, exp_spec: dict, dataset_path, out_path, base_seed: int = 0,
                 config: dict | None = None) -> None:
    """Draw the design of ``experiment`` over its dataset's pool split and write it atomically."""
    from pointwise.data.store import read_dataset
    from pointwise.provenance import provenance

    ds = read_dataset(dataset_path)
    pool_rows = ds.split_index(exp_spec.get("pool_split", "train"))
    d = exp_spec["design"]
    n_runs = d["folds"] * d["repeats"] if d["kind"] == "kfold" else d["seeds"]
    mask = make_design(
        d["kind"], len(pool_rows), n_runs, rng_seed=stable_seed("design", base_seed, experiment),
        labels=ds.labels[pool_rows], size=d.get("size"), fraction=d.get("fraction"),
        folds=d.get("folds"), repeats=d.get("repeats"), stratified=d.get("stratified", False),
    )
    write_design(out_path, mask, ds, pool_rows, experiment, base_seed,
                 {"design": d, **provenance(config, seed=base_seed, inputs=[dataset_path])})
    log.info("design of %s: %d runs over a pool of %d; each trains on %s examples",
             experiment, n_runs, len(pool_rows), sorted(set(mask.sum(1).tolist())))


def read_design(path) -> dict:
    """{'train_mask', 'pool_rows', 'pool_ids', 'pool_labels', 'run_seeds'} arrays of a design file."""
    with h5py.File(path, "r") as f:
        return {k: f[k][()] for k in ("train_mask", "pool_rows", "pool_ids", "pool_labels", "run_seeds")}
