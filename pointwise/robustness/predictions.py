"""Per-model predictions on an ID and OOD test sets: one in-memory format, an importer for
published predictions (JSON lists or ``.npy``), a reader for this workflow's ``logits.h5`` and an
HDF5 serialisation (paper 001 §4–5.4: the testbed and the special models; spec §3.2, §3.6, §3.8).

The format
----------
:class:`Predictions` holds M models (``models``, a list of names in a fixed order) and one
:class:`EvalSet` per test set (``sets``, keyed by set name, e.g. ``"id"``, ``"rep"``, ``"style"``):

============  ======================  ==================================================
field         dtype / shape           meaning
============  ======================  ==================================================
``labels``    int64 [N]               true label of example n
``pred``      int64 [M, N]            label model m predicts for example n
``ids``       [N]                     example ids (default 0..N−1)
``logits``    float32 [M, N, C]/None  kept only with ``keep_logits`` and when all models
                                      supplied logits
============  ======================  ==================================================

Derived: ``correct`` bool [M, N] (what :mod:`.dominance`, :mod:`.unique_correct` and
:mod:`.triplets` take), ``accuracy`` float [M] (what :mod:`.fit`, :mod:`.trajectory` and
:mod:`.selection` take), ``k`` int [M] and ``n`` (for Clopper–Pearson and the fit's clip);
:meth:`Predictions.table` gives the long accuracy table with 95% CP bounds and
:meth:`Predictions.wide_table` the ``testbed_acc.csv`` layout.

Importing published predictions
-------------------------------
:func:`import_predictions` takes explicit paths; :func:`import_prediction_dir` a directory::

    root/labels/{set}.json | root/labels/{set}.npy     true labels, one file per set
    root/{model}/{set}.json | root/{model}/{set}.npy    one directory per model

A prediction file holds, per example in the label file's order, either the predicted label
(1-D integers) or the logits / class scores ([N, C] floats, reduced by argmax). JSON files hold a
list (or list of lists), or an object with one of the keys ``predictions``, ``preds``,
``logits``, ``labels``; a model given as a single JSON file may hold an object keyed by set name.
Missing files raise ``FileNotFoundError``; wrong lengths, shapes or out-of-range labels raise
:class:`PredictionImportError` naming the model, set and file.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import h5py
import numpy as np
import pandas as pd

from pointwise.io import atomic_path, set_h5_attrs

from .intervals import clopper_pearson

ARRAY_KEYS = ("predictions", "preds", "logits", "labels")
SUFFIXES = (".json", ".npy")


class PredictionImportError(ValueError):
    """Malformed or inconsistent prediction/label files."""


@dataclass
class EvalSet:
    """Predictions of all models on one test set (see the module docstring)."""

    labels: np.ndarray
    pred: np.ndarray
    ids: np.ndarray | None = None
    logits: np.ndarray | None = None

    def __post_init__(self):
        self.labels = np.asarray(self.labels, dtype=np.int64).ravel()
        self.pred = np.asarray(self.pred, dtype=np.int64)
        if self.pred.ndim == 1:
            self.pred = self.pred[None]
        if self.pred.ndim != 2 or self.pred.shape[1] != self.labels.size:
            raise PredictionImportError(
                f"pred has shape {self.pred.shape}; expected [models, {self.labels.size}]")
        self.ids = np.arange(self.labels.size) if self.ids is None else np.asarray(self.ids)
        if self.ids.shape != self.labels.shape:
            raise PredictionImportError(f"{self.ids.size} ids for {self.labels.size} labels")
        if self.logits is not None and self.logits.shape[:2] != self.pred.shape:
            raise PredictionImportError("logits do not match pred in shape")

    @property
    def n(self) -> int:
        return int(self.labels.size)

    @property
    def correct(self) -> np.ndarray:
        return self.pred == self.labels[None]

    @property
    def k(self) -> np.ndarray:
        return self.correct.sum(1)

    @property
    def accuracy(self) -> np.ndarray:
        return self.correct.mean(1)

    def take(self, rows) -> "EvalSet":
        rows = np.asarray(rows)
        return EvalSet(self.labels, self.pred[rows], self.ids,
                       None if self.logits is None else self.logits[rows])


@dataclass
class Predictions:
    """M models' predictions on several test sets (see the module docstring)."""

    models: list[str]
    sets: dict[str, EvalSet] = field(default_factory=dict)

    def __post_init__(self):
        self.models = [str(m) for m in self.models]
        if len(set(self.models)) != len(self.models):
            raise PredictionImportError("model names must be unique")
        for name, s in self.sets.items():
            if s.pred.shape[0] != len(self.models):
                raise PredictionImportError(
                    f"set {name!r} has {s.pred.shape[0]} models' predictions for {len(self.models)} names")

    def correct(self, set_name: str) -> np.ndarray:
        return self.sets[set_name].correct

    def accuracy(self, set_name: str) -> np.ndarray:
        return self.sets[set_name].accuracy

    def index(self, names: Sequence[str]) -> np.ndarray:
        pos = {m: i for i, m in enumerate(self.models)}
        missing = [m for m in names if m not in pos]
        if missing:
            raise KeyError(f"unknown models: {missing}")
        return np.array([pos[m] for m in names], dtype=np.int64)

    def select(self, names: Sequence[str]) -> "Predictions":
        """The sub-table of these models, in this order."""
        rows = self.index(list(names))
        return Predictions([self.models[i] for i in rows], {k: s.take(rows) for k, s in self.sets.items()})

    def merge(self, other: "Predictions") -> "Predictions":
        """Stack two tables over the same sets (same labels and ids), e.g. testbed + special models."""
        if set(self.sets) != set(other.sets):
            raise PredictionImportError(f"sets differ: {sorted(self.sets)} vs {sorted(other.sets)}")
        out = {}
        for k, a in self.sets.items():
            b = other.sets[k]
            if not (np.array_equal(a.labels, b.labels) and np.array_equal(a.ids, b.ids)):
                raise PredictionImportError(f"set {k!r}: labels or ids differ between the tables")
            logits = None
            if a.logits is not None and b.logits is not None and a.logits.shape[2] == b.logits.shape[2]:
                logits = np.concatenate([a.logits, b.logits])
            out[k] = EvalSet(a.labels, np.concatenate([a.pred, b.pred]), a.ids, logits)
        return Predictions(self.models + other.models, out)

    def table(self, alpha: float = 0.05) -> pd.DataFrame:
        """Long table: model, set, n, k, acc, cp_lo, cp_hi (Clopper–Pearson at 1 − alpha)."""
        frames = []
        for name, s in self.sets.items():
            lo, hi = clopper_pearson(s.k, s.n, alpha)
            frames.append(pd.DataFrame({"model": self.models, "set": name, "n": s.n, "k": s.k,
                                        "acc": s.accuracy, "cp_lo": lo, "cp_hi": hi}))
        return pd.concat(frames, ignore_index=True)

    def wide_table(self, alpha: float = 0.05) -> pd.DataFrame:
        """One row per model: model, then {set}_n, {set}_k, {set}_acc, {set}_lo, {set}_hi per set
        (``testbed_acc.csv`` layout, spec §6)."""
        out = pd.DataFrame({"model": self.models})
        for name, s in self.sets.items():
            lo, hi = clopper_pearson(s.k, s.n, alpha)
            out[f"{name}_n"], out[f"{name}_k"], out[f"{name}_acc"] = s.n, s.k, s.accuracy
            out[f"{name}_lo"], out[f"{name}_hi"] = lo, hi
        return out


# ---------------------------------------------------------------------------------------- files

def load_array(path: str | os.PathLike, set_name: str | None = None) -> np.ndarray:
    """Read a JSON list / object or a ``.npy`` file into an array (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    if path.suffix == ".npy":
        return np.load(path, allow_pickle=False)
    if path.suffix != ".json":
        raise PredictionImportError(f"{path}: unsupported file type (expected .json or .npy)")
    try:
        obj = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise PredictionImportError(f"{path}: invalid JSON ({e})") from None
    if isinstance(obj, dict):
        if set_name is not None and set_name in obj:
            obj = obj[set_name]
        else:
            keys = [k for k in ARRAY_KEYS if k in obj]
            if len(keys) != 1:
                raise PredictionImportError(
                    f"{path}: a JSON object needs exactly one of the keys {ARRAY_KEYS}"
                    + (f" or the set name {set_name!r}" if set_name else "") + f"; found {sorted(obj)}")
            obj = obj[keys[0]]
            if isinstance(obj, dict) and set_name in obj:
                obj = obj[set_name]
    try:
        return np.asarray(obj, dtype=np.float64)
    except (ValueError, TypeError):
        raise PredictionImportError(f"{path}: not a rectangular numeric list") from None


def _as_labels(arr: np.ndarray, where: str, what: str = "labels") -> np.ndarray:
    arr = np.asarray(arr)
    if arr.ndim != 1:
        raise PredictionImportError(f"{where}: {what} must be 1-D, got shape {arr.shape}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise PredictionImportError(f"{where}: {what} must be integers")
    elif arr.dtype.kind not in "iu":
        raise PredictionImportError(f"{where}: {what} must be integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if (arr < 0).any():
        raise PredictionImportError(f"{where}: negative {what}")
    return arr


def _as_predictions(arr: np.ndarray, n: int, num_classes: int | None, where: str):
    """→ (pred [N] int64, logits [N, C] or None)."""
    arr = np.asarray(arr)
    if arr.ndim == 2:
        if not np.all(np.isfinite(arr)):
            raise PredictionImportError(f"{where}: logits contain non-finite values")
        logits, pred = arr.astype(np.float32), arr.argmax(1).astype(np.int64)
        if num_classes is not None and arr.shape[1] != num_classes:
            raise PredictionImportError(f"{where}: logits have {arr.shape[1]} classes, expected {num_classes}")
    elif arr.ndim == 1:
        logits, pred = None, _as_labels(arr, where, "predicted labels")
    else:
        raise PredictionImportError(f"{where}: expected [N] labels or [N, C] logits, got shape {arr.shape}")
    if pred.size != n:
        raise PredictionImportError(f"{where}: {pred.size} predictions but the label file has {n} examples")
    if num_classes is not None and (pred >= num_classes).any():
        raise PredictionImportError(f"{where}: predicted label >= num_classes ({num_classes})")
    return pred, logits


def import_predictions(model_files: Mapping[str, Mapping[str, str | os.PathLike] | str | os.PathLike],
                       label_files: Mapping[str, str | os.PathLike],
                       ids_files: Mapping[str, str | os.PathLike] | None = None,
                       num_classes: int | None = None, keep_logits: bool = False) -> Predictions:
    """Build a :class:`Predictions` table from published per-model prediction files.

    ``model_files``: model name → {set name → file}, or → one JSON file keyed by set name.
    ``label_files``: set name → file of true labels; every model must cover every set.
    ``ids_files``: optional set name → file of example ids. ``num_classes`` (optional) bounds
    the labels. Model order follows ``model_files``.
    """
    if not model_files:
        raise PredictionImportError("no models given")
    if not label_files:
        raise PredictionImportError("no label files given")
    labels, ids = {}, {}
    for s, path in label_files.items():
        labels[s] = _as_labels(load_array(path, s), f"labels of set {s!r} ({path})")
        if num_classes is not None and (labels[s] >= num_classes).any():
            raise PredictionImportError(f"labels of set {s!r} ({path}): label >= num_classes ({num_classes})")
        if ids_files and s in ids_files:
            ids[s] = np.load(ids_files[s]) if str(ids_files[s]).endswith(".npy") else \
                np.asarray(json.loads(Path(ids_files[s]).read_text()))
            if ids[s].shape != labels[s].shape:
                raise PredictionImportError(
                    f"ids of set {s!r}: {ids[s].size} ids for {labels[s].size} labels")
    preds = {s: [] for s in labels}
    logits = {s: [] for s in labels}
    for model, files in model_files.items():
        for s, lab in labels.items():
            if isinstance(files, Mapping):
                if s not in files:
                    raise FileNotFoundError(f"model {model!r}: no prediction file for set {s!r}")
                path = files[s]
            else:
                path = files
            where = f"model {model!r}, set {s!r} ({path})"
            try:
                arr = load_array(path, s)
            except FileNotFoundError:
                raise FileNotFoundError(f"{where}: file not found") from None
            p, z = _as_predictions(arr, lab.size, num_classes, where)
            preds[s].append(p)
            logits[s].append(z)
    out = {}
    for s, lab in labels.items():
        z = None
        if keep_logits and all(x is not None for x in logits[s]):
            widths = {x.shape[1] for x in logits[s]}
            if len(widths) == 1:
                z = np.stack(logits[s])
        out[s] = EvalSet(lab, np.stack(preds[s]), ids.get(s), z)
    return Predictions(list(model_files), out)


def _find(base: Path, stem: str) -> Path:
    hits = [base / f"{stem}{suf}" for suf in SUFFIXES if (base / f"{stem}{suf}").is_file()]
    if not hits:
        raise FileNotFoundError(f"no {stem}.json or {stem}.npy in {base}")
    if len(hits) > 1:
        raise PredictionImportError(f"both {stem}.json and {stem}.npy in {base}; keep one")
    return hits[0]


def import_prediction_dir(root: str | os.PathLike, sets: Sequence[str] | None = None,
                          models: Sequence[str] | None = None, num_classes: int | None = None,
                          keep_logits: bool = False) -> Predictions:
    """Import ``root/labels/{set}.*`` and ``root/{model}/{set}.*`` (see the module docstring).

    ``sets`` default: the stems in ``root/labels``; ``models`` default: every other
    subdirectory of ``root``, sorted by name.
    """
    root = Path(root)
    lab_dir = root / "labels"
    if not lab_dir.is_dir():
        raise FileNotFoundError(f"no labels/ directory in {root}")
    if sets is None:
        sets = sorted({p.stem for p in lab_dir.iterdir() if p.suffix in SUFFIXES})
        if not sets:
            raise FileNotFoundError(f"no label files in {lab_dir}")
    if models is None:
        models = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name != "labels")
        if not models:
            raise FileNotFoundError(f"no model directories in {root}")
    label_files = {s: _find(lab_dir, s) for s in sets}
    model_files = {}
    for m in models:
        if not (root / m).is_dir():
            raise FileNotFoundError(f"no directory for model {m!r} in {root}")
        model_files[m] = {s: _find(root / m, s) for s in sets}
    return import_predictions(model_files, label_files, num_classes=num_classes, keep_logits=keep_logits)


# ----------------------------------------------------------------------- this workflow's runs

def run_accuracies(path: str | os.PathLike, sets: Sequence[str]) -> dict[str, np.ndarray]:
    """Accuracy at every eval point of one run's ``logits.h5`` (docs/training.md):
    {"steps": [K], "epochs": [K], <set>: [K] for each requested group}."""
    with h5py.File(path, "r") as f:
        out = {"steps": f["steps"][()], "epochs": f["epochs"][()]}
        for s in sets:
            if s not in f:
                raise KeyError(f"{path}: no eval set {s!r} (has {sorted(k for k in f if isinstance(f[k], h5py.Group))})")
            g = f[s]
            labels = g["labels"][()]
            out[s] = np.array([(g["logits"][k].argmax(-1) == labels).mean()
                               for k in range(g["logits"].shape[0])])
    return out


def predictions_from_logits_h5(runs: Mapping[str, str | os.PathLike | tuple], sets: Mapping[str, str] | Sequence[str],
                               keep_logits: bool = False) -> Predictions:
    """A :class:`Predictions` table from runs' ``logits.h5`` at chosen eval points.

    ``runs``: model name → path (final eval point) or (path, eval index) (e.g. the max-ER index
    from :func:`~pointwise.robustness.selection.max_er_checkpoint`). ``sets``: output set name →
    HDF5 group name (a sequence means the same names). Runs whose examples are a permutation of the
    first run's are reordered by ``ids``; other differences raise :class:`PredictionImportError`.
    """
    set_map = dict(sets) if isinstance(sets, Mapping) else {s: s for s in sets}
    ref: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    preds = {s: [] for s in set_map}
    logit_list = {s: [] for s in set_map}
    for model, spec in runs.items():
        path, idx = (spec, -1) if not isinstance(spec, tuple) else spec
        if not Path(path).is_file():
            raise FileNotFoundError(f"model {model!r}: no file {path}")
        with h5py.File(path, "r") as f:
            for out_name, group in set_map.items():
                if group not in f:
                    raise PredictionImportError(f"model {model!r} ({path}): no eval set {group!r}")
                g = f[group]
                z = g["logits"][idx].astype(np.float32)
                ids, labels = g["ids"][()], g["labels"][()].astype(np.int64)
                if out_name not in ref:
                    ref[out_name] = (ids, labels)
                elif not np.array_equal(ids, ref[out_name][0]):
                    rid = ref[out_name][0]
                    order = {v: i for i, v in enumerate(ids.tolist())}
                    if len(ids) != len(rid) or any(v not in order for v in rid.tolist()):
                        raise PredictionImportError(
                            f"model {model!r}, set {out_name!r}: examples differ from the first model's")
                    perm = np.array([order[v] for v in rid.tolist()])
                    z, labels = z[perm], labels[perm]
                if not np.array_equal(labels, ref[out_name][1]):
                    raise PredictionImportError(f"model {model!r}, set {out_name!r}: labels differ")
                preds[out_name].append(z.argmax(-1).astype(np.int64))
                logit_list[out_name].append(z if keep_logits else None)
    out = {s: EvalSet(ref[s][1], np.stack(preds[s]), ref[s][0],
                      np.stack(logit_list[s]) if keep_logits else None) for s in set_map}
    return Predictions(list(runs), out)


def write_predictions_h5(preds: Predictions, path: str | os.PathLike, provenance: Mapping | None = None) -> None:
    """Atomically write the table: attrs ``models`` (JSON) + provenance; one group per set with
    ``labels``, ``ids``, ``pred`` and, if present, ``logits``."""
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            f.attrs["models"] = json.dumps(preds.models)
            for name, s in preds.sets.items():
                g = f.create_group(name)
                g.create_dataset("labels", data=s.labels)
                ids = s.ids
                g.create_dataset("ids", data=ids.astype("S") if ids.dtype.kind in "OU" else ids)
                g.create_dataset("pred", data=s.pred, compression="gzip", compression_opts=1)
                if s.logits is not None:
                    g.create_dataset("logits", data=s.logits.astype(np.float16))
            if provenance is not None:
                set_h5_attrs(f, provenance)


def read_predictions_h5(path: str | os.PathLike) -> Predictions:
    """Inverse of :func:`write_predictions_h5` (logits come back as float32)."""
    with h5py.File(path, "r") as f:
        models = json.loads(f.attrs["models"])
        sets = {}
        for name, g in f.items():
            ids = g["ids"][()]
            if ids.dtype.kind == "S":
                ids = ids.astype(str)
            sets[name] = EvalSet(g["labels"][()], g["pred"][()], ids,
                                 g["logits"][()].astype(np.float32) if "logits" in g else None)
    return Predictions(models, sets)
