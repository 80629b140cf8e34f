"""Zero-shot prediction through a class map, and class-mapped logits (paper 001 §5.2, App. C.7,
C.12, Fig. 14; spec §3.11).

p = softmax over *all* pretraining classes; target class c with mapped pretraining classes M(c)
scores s_c = agg_{k∈M(c)} p_k, agg ∈ {max (default), mean, sum}; prediction argmax_c s_c.
For class-mapped fine-tuning (C.12) the target logit is the max *logit* over M(c).

A class map is given as a sequence (or dict keyed 0..C−1) of pretraining-class index lists, one
per target class, or as an int array over pretraining classes holding the target class (−1 for
unmapped classes). In the config (``papers.robustness.zeroshot.*.class_map``, the recipe key
``class_map``) it is an inline list of lists or the path of a JSON file holding one
(:func:`load_class_map`), e.g. ``pointwise/robustness/class_maps/cinic10_imagenet1k.json``: the
CINIC-10 map from ImageNet-1k indices to the CIFAR-10 classes (docs/papers/robustness.md).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

import numpy as np
from scipy.special import softmax

AGGREGATIONS = ("max", "mean", "sum")


def load_class_map(value) -> list[list[int]]:
    """A config class map as a list of pretraining-class index lists, one per target class:
    ``value`` itself (a list of lists) or, given a string, the JSON file at that path (relative
    paths: to the working directory, i.e. the workflow's root) holding such a list. ValueError
    / FileNotFoundError name the file and what is wrong with it."""
    if isinstance(value, (str, Path)):
        path = Path(value)
        if not path.is_file():
            raise FileNotFoundError(f"class map file '{value}' does not exist (a JSON list of one list of "
                                    "pretraining-class indices per target class)")
        try:
            value = json.loads(path.read_text())
        except ValueError as exc:
            raise ValueError(f"class map file '{value}' is not valid JSON: {exc}") from exc
        where = f"class map file '{path}'"
    else:
        where = "class map"
    if not isinstance(value, (list, tuple)) or len(value) < 2 or not all(
            isinstance(g, (list, tuple)) and g and all(isinstance(i, int) and not isinstance(i, bool)
                                                       and i >= 0 for i in g) for g in value):
        raise ValueError(f"{where}: expected a list of >= 2 non-empty lists of class indices >= 0")
    return [list(map(int, g)) for g in value]


def normalize_class_map(class_map, n_pretrain: int | None = None) -> list[np.ndarray]:
    """Class map → list (one per target class) of pretraining-class index arrays."""
    if isinstance(class_map, Mapping):
        keys = sorted(class_map)
        if keys != list(range(len(keys))):
            raise ValueError("class-map keys must be the target classes 0..C-1")
        groups = [np.asarray(class_map[k], dtype=np.int64) for k in keys]
    else:
        if all(np.ndim(v) == 0 for v in class_map):
            tgt = np.asarray(class_map, dtype=np.int64)
            C = int(tgt.max()) + 1
            groups = [np.flatnonzero(tgt == c) for c in range(C)]
        else:
            groups = [np.asarray(g, dtype=np.int64).ravel() for g in class_map]
    for c, g in enumerate(groups):
        if g.size == 0:
            raise ValueError(f"target class {c} has no mapped pretraining class")
        if (g < 0).any() or (n_pretrain is not None and (g >= n_pretrain).any()):
            raise ValueError(f"target class {c} maps to a pretraining class out of range")
    return groups


def class_mapped_scores(logits, class_map, agg: str = "max") -> np.ndarray:
    """Aggregated target-class scores s [..., C] from pretraining logits [..., P]."""
    if agg not in AGGREGATIONS:
        raise ValueError(f"agg must be one of {AGGREGATIONS}")
    z = np.asarray(logits, dtype=np.float64)
    groups = normalize_class_map(class_map, z.shape[-1])
    p = softmax(z, axis=-1)
    f = {"max": np.max, "mean": np.mean, "sum": np.sum}[agg]
    return np.stack([f(p[..., g], axis=-1) for g in groups], axis=-1)


def zero_shot_predict(logits, class_map, agg: str = "max") -> np.ndarray:
    """argmax_c s_c: zero-shot target-class predictions [...]."""
    return class_mapped_scores(logits, class_map, agg).argmax(-1)


def class_mapped_logits(logits, class_map) -> np.ndarray:
    """Target logits [..., C] = max logit over each class's mapped pretraining classes (C.12)."""
    z = np.asarray(logits)
    groups = normalize_class_map(class_map, z.shape[-1])
    return np.stack([z[..., g].max(-1) for g in groups], axis=-1)
