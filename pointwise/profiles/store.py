"""HDF5 files of the profile pipeline (spec 000 §7.1), written atomically with provenance
(:mod:`pointwise.io`):

- ``agg/...h5``: one group per run group ("all", "halfA", "halfB") with ``acc [K,N]``,
  ``mean_softmax [K,N,C]``, ``mean_entropy [K,N]``, ``soft_acc [K,N]``, ``global_acc [K]`` and the
  attribute ``n_runs``; top level ``ids``, ``labels``, ``steps``, ``epochs``;
- ``profiles/...h5``: ``grid [G]``, ``acc [N,G]``, ``softmax [N,G,C]``, ``negent [N,G]``,
  ``softacc [N,G]``, ``kept_k``, ``labels``, ``ids`` and the smoothing parameters as attributes.
"""
from __future__ import annotations

import json
import os
from typing import Mapping

import h5py
import numpy as np

from ..io import atomic_path, set_h5_attrs
from .aggregate import Aggregate
from .build import Profiles

_AGG_FIELDS = ("acc", "mean_softmax", "mean_entropy", "soft_acc")
_PROFILE_FIELDS = ("acc", "softmax", "negent", "softacc")


def write_aggregates(path: str | os.PathLike, groups: Mapping[str, tuple[Aggregate, np.ndarray]],
                     ids, steps, epochs, provenance: Mapping | None = None) -> None:
    """groups: name -> (aggregate, global accuracy [K])."""
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        first = next(iter(groups.values()))[0]
        f.create_dataset("ids", data=np.asarray(ids))
        f.create_dataset("labels", data=np.asarray(first.labels))
        f.create_dataset("steps", data=np.asarray(steps))
        f.create_dataset("epochs", data=np.asarray(epochs))
        for name, (agg, p) in groups.items():
            g = f.create_group(name)
            for key in _AGG_FIELDS:
                val = getattr(agg, key)
                if val is not None:
                    g.create_dataset(key, data=val.astype(np.float32), compression="gzip",
                                     compression_opts=1)
            g.create_dataset("global_acc", data=np.asarray(p, np.float64))
            g.attrs["n_runs"] = int(agg.n_runs)
            g.attrs["runs"] = json.dumps([int(r) for r in agg.runs])
        set_h5_attrs(f, provenance or {})


def read_aggregates(path: str | os.PathLike) -> dict:
    """-> {"ids", "labels", "steps", "epochs", "groups": {name: (Aggregate, global_acc)}};
    stored float32 values are returned as float64."""
    with h5py.File(path, "r") as f:
        out = {k: np.asarray(f[k]) for k in ("ids", "labels", "steps", "epochs")}
        groups = {}
        for name, g in f.items():
            if not isinstance(g, h5py.Group):
                continue
            get = lambda k: np.asarray(g[k], np.float64) if k in g else None  # noqa: E731
            agg = Aggregate(get("acc"), out["labels"], int(g.attrs["n_runs"]), get("mean_softmax"),
                            get("mean_entropy"), get("soft_acc"),
                            tuple(json.loads(g.attrs.get("runs", "[]"))))
            groups[name] = (agg, np.asarray(g["global_acc"]))
        out["groups"] = groups
    return out


def write_profiles(path: str | os.PathLike, profiles: Profiles, ids=None,
                   provenance: Mapping | None = None) -> None:
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("grid", data=profiles.grid)
        f.create_dataset("labels", data=np.asarray(profiles.labels))
        if ids is not None:
            f.create_dataset("ids", data=np.asarray(ids))
        if profiles.kept is not None:
            f.create_dataset("kept_k", data=np.asarray(profiles.kept))
        for key in _PROFILE_FIELDS:
            val = getattr(profiles, key)
            if val is not None:
                f.create_dataset(key, data=val.astype(np.float32), compression="gzip",
                                 compression_opts=1)
        set_h5_attrs(f, {**(provenance or {}), "smoothing": dict(profiles.params)})


def read_profiles(path: str | os.PathLike) -> tuple[Profiles, np.ndarray | None]:
    """-> (profiles as float64, ids or None)."""
    with h5py.File(path, "r") as f:
        get = lambda k: np.asarray(f[k], np.float64) if k in f else None  # noqa: E731
        params = json.loads(f.attrs["smoothing"]) if "smoothing" in f.attrs else {}
        prof = Profiles(np.asarray(f["grid"]), get("acc"), np.asarray(f["labels"]), get("softmax"),
                        get("negent"), get("softacc"),
                        np.asarray(f["kept_k"]) if "kept_k" in f else None, params)
        ids = np.asarray(f["ids"]) if "ids" in f else None
    return prof, ids
