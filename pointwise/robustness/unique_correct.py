"""Accuracy on the examples no (other) testbed model gets right (paper 001 §5.4, Fig. 5c;
spec §3.6).

With c_m[n] = 1[f_m(x_n) = y_n] on the ID test set and testbed T:

* S = {n : c_t[n] = 0 for all t ∈ T}  (the paper: 4.8% of ImageNet val);
* a non-testbed model g scores acc_S(g) = Σ_{n∈S} c_g[n] / |S|;
* a testbed model t is scored leave-one-out on S₋t = {n : c_t'[n] = 0 ∀ t' ∈ T \\ {t}}
  (otherwise it would score 0 by construction; the caption says "none of the *other* models");
* reference: random guessing, 1/C.

Inputs are correctness matrices [models, examples] (bool) over the same examples in the same
order, plus the labels for the per-class breakdown.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd


def _mat(c, name):
    c = np.asarray(c)
    if c.ndim == 1:
        c = c[None]
    if c.ndim != 2:
        raise ValueError(f"{name} must be [models, examples]")
    return c.astype(bool)


def missed_by_all(testbed_correct) -> np.ndarray:
    """Boolean mask of S: the examples every testbed model gets wrong."""
    return ~_mat(testbed_correct, "testbed_correct").any(0)


def leave_one_out_sets(testbed_correct) -> np.ndarray:
    """[T, N] mask of S₋t: examples every testbed model except t gets wrong."""
    C = _mat(testbed_correct, "testbed_correct")
    cnt = C.sum(0)
    return (cnt[None, :] - C) == 0


def _class_breakdown(hit_mask, labels):
    if labels is None:
        return np.nan, np.nan
    cls = np.asarray(labels)[hit_mask]
    if cls.size == 0:
        return 0, 0
    _, counts = np.unique(cls, return_counts=True)
    return int(counts.size), int(counts.max())


def unique_correct(testbed_correct, others_correct=None, labels=None, num_classes: int | None = None,
                   testbed_names: Sequence[str] | None = None,
                   other_names: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per model (``unique_correct.csv``): model, role (testbed | other), acc_id,
    set_size (|S₋t| for testbed rows, |S| for others), set_frac (set_size / N), acc_S (NaN when
    the set is empty), n_correct, n_classes and max_per_class (of the correct examples in the set,
    NaN without labels), chance (= 1/C when ``num_classes`` is given, else NaN).
    """
    T = _mat(testbed_correct, "testbed_correct")
    N = T.shape[1]
    O = np.zeros((0, N), bool) if others_correct is None else _mat(others_correct, "others_correct")
    if O.shape[1] != N:
        raise ValueError(f"testbed has {N} examples but the other models have {O.shape[1]}")
    if labels is not None and len(labels) != N:
        raise ValueError(f"{len(labels)} labels for {N} examples")
    tn = [f"testbed_{i}" for i in range(len(T))] if testbed_names is None else list(testbed_names)
    on = [f"model_{i}" for i in range(len(O))] if other_names is None else list(other_names)
    if len(tn) != len(T) or len(on) != len(O):
        raise ValueError("names do not match the number of models")
    chance = 1.0 / num_classes if num_classes else np.nan
    rows = []
    loo = leave_one_out_sets(T)
    for i, name in enumerate(tn):
        rows.append(_row(name, "testbed", T[i], loo[i], labels, chance))
    S = missed_by_all(T)
    for i, name in enumerate(on):
        rows.append(_row(name, "other", O[i], S, labels, chance))
    return pd.DataFrame(rows)


def _row(name, role, c, s, labels, chance):
    hit = c & s
    size = int(s.sum())
    n_cls, max_pc = _class_breakdown(hit, labels)
    return {"model": name, "role": role, "acc_id": float(c.mean()), "set_size": size,
            "set_frac": size / c.size, "acc_S": float(hit.sum() / size) if size else np.nan,
            "n_correct": int(hit.sum()), "n_classes": n_cls, "max_per_class": max_pc,
            "chance": chance}


def unique_correct_examples(testbed_correct, model_correct, labels=None, ids=None,
                            model: str = "model") -> pd.DataFrame:
    """The examples of S that one non-testbed model gets right (``unique_correct_examples.csv``):
    columns model, index (position in the test set), id (``ids`` or the index), label."""
    S = missed_by_all(testbed_correct)
    c = np.asarray(model_correct, dtype=bool).ravel()
    if c.size != S.size:
        raise ValueError(f"model has {c.size} examples but the testbed has {S.size}")
    idx = np.flatnonzero(S & c)
    return pd.DataFrame({"model": model, "index": idx,
                         "id": idx if ids is None else np.asarray(ids)[idx],
                         "label": np.full(idx.size, -1) if labels is None else np.asarray(labels)[idx]})


def testbed_example_table(testbed_correct, ids, labels, names: Sequence[str] | None = None,
                          ood: dict | None = None) -> pd.DataFrame:
    """One row per ID example (``testbed/per_example.csv``, the atlas's paper-001 lens):
    example_id, label, testbed_acc (fraction of testbed models right), n_correct, any_correct,
    none_correct (the example is in S), unique_correct (exactly one testbed model is right: the
    examples that model alone contributes, i.e. S₋t of that model) and unique_model (that model,
    "" elsewhere; with ``names``).

    ``ood``: role -> (correct [T, N_r], ids [N_r]) of the same testbed models on an OOD set whose
    examples are the ID examples transformed (same ids, e.g. a corruption of the test split);
    adds testbed_acc_<role>, n_correct_<role> and none_correct_<role>, aligned by id."""
    T = _mat(testbed_correct, "testbed_correct")
    ids = np.asarray(ids)
    if ids.size != T.shape[1] or len(labels) != T.shape[1]:
        raise ValueError(f"{ids.size} ids and {len(labels)} labels for {T.shape[1]} examples")
    n = T.sum(0)
    out = pd.DataFrame({"example_id": ids, "label": np.asarray(labels),
                        "testbed_acc": n / max(len(T), 1), "n_correct": n, "any_correct": n > 0,
                        "none_correct": n == 0, "unique_correct": n == 1})
    if names is not None:
        if len(names) != len(T):
            raise ValueError(f"{len(names)} names for {len(T)} testbed models")
        only = np.asarray(names, dtype=object)[T.argmax(0)]
        out["unique_model"] = np.where(n == 1, only, "")
    for role, (correct, role_ids) in (ood or {}).items():
        R = _mat(correct, f"ood[{role!r}]")
        pos = {int(v): i for i, v in enumerate(np.asarray(role_ids).tolist())}
        idx = np.array([pos.get(int(v), -1) for v in ids.tolist()], dtype=np.int64)
        if R.shape != (len(T), len(pos)) or (idx < 0).any():
            raise ValueError(f"OOD set {role!r}: needs the {len(T)} testbed models on every ID example id")
        k = R[:, idx].sum(0)
        out[f"testbed_acc_{role}"] = k / max(len(T), 1)
        out[f"n_correct_{role}"] = k
        out[f"none_correct_{role}"] = k == 0
    return out
