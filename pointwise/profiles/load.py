"""Reading the per-run ``logits.h5`` files of one configuration (docs/training.md): one group per
eval set with ``logits`` float16 ``[K, N, C]``, ``ids``, ``labels``; top-level ``steps``/``epochs``.

- :func:`load_logits` stacks R files into an in-memory ``[R, K, N, C]`` float32 array;
- :func:`aggregate_files` streams them (one run in memory at a time) into run aggregates for any
  number of run groups (all runs, half A, half B), with the reference set's global accuracy
  computed from the same runs (spec §3.2, §3.5).

Every file must have the same eval steps and the same example ids (any order: later files are
reordered to the first file's order) with the same labels. The optional step-0 evaluation is
dropped unless ``include_step0`` (spec §3.2 step 6).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Sequence

import h5py
import numpy as np

from .aggregate import Aggregate, RunAccumulator, global_accuracy


@dataclass
class RunLogits:
    logits: np.ndarray      # [R, K, N, C] float32
    ids: np.ndarray         # [N]
    labels: np.ndarray      # [N]
    steps: np.ndarray       # [K]
    epochs: np.ndarray      # [K]
    paths: tuple


def eval_points(steps, include_step0: bool = False) -> np.ndarray:
    """Indices of the eval points used for profiles: all, or all with step > 0 (default)."""
    steps = np.asarray(steps)
    return np.arange(steps.size) if include_step0 else np.flatnonzero(steps > 0)


class _Reader:
    """Checks one file against the first one read and returns its arrays in the first's order."""

    def __init__(self, evalsets: Sequence[str], include_step0: bool):
        self.evalsets = list(dict.fromkeys(evalsets))
        self.include_step0 = include_step0
        self.ref = None

    def read(self, path) -> dict:
        with h5py.File(path, "r") as f:
            steps = np.asarray(f["steps"])
            epochs = np.asarray(f["epochs"]) if "epochs" in f else steps.astype(np.float64)
            k = eval_points(steps, self.include_step0)
            out = {"steps": steps[k], "epochs": epochs[k], "sets": {}}
            for name in self.evalsets:
                if name not in f:
                    raise KeyError(f"{path}: no eval set {name!r} (has {sorted(f.keys())})")
                g = f[name]
                out["sets"][name] = {"logits": np.asarray(g["logits"])[k],
                                     "ids": np.asarray(g["ids"]), "labels": np.asarray(g["labels"])}
        if self.ref is None:
            for name, s in out["sets"].items():
                if np.unique(s["ids"]).size != s["ids"].size:
                    raise ValueError(f"{path}: duplicate ids in eval set {name!r}")
            self.ref = out
            return out
        if not np.array_equal(out["steps"], self.ref["steps"]):
            raise ValueError(f"{path}: eval steps differ from the first file's")
        for name, s in out["sets"].items():
            r = self.ref["sets"][name]
            if not np.array_equal(s["ids"], r["ids"]):
                if s["ids"].size != r["ids"].size or not np.array_equal(np.sort(s["ids"]),
                                                                        np.sort(r["ids"])):
                    raise ValueError(f"{path}: eval set {name!r} has different example ids")
                sorter = np.argsort(s["ids"])
                pos = sorter[np.searchsorted(s["ids"], r["ids"], sorter=sorter)]
                s["logits"], s["ids"], s["labels"] = s["logits"][:, pos], s["ids"][pos], s["labels"][pos]
            if not np.array_equal(s["labels"], r["labels"]):
                raise ValueError(f"{path}: eval set {name!r} has different labels")
        return out


def load_logits(paths: Sequence[str | os.PathLike], evalset: str, *,
                include_step0: bool = False) -> RunLogits:
    """Stack the ``evalset`` logits of R runs: ``[R, K, N, C]`` float32 (fp16 -> fp32)."""
    if not paths:
        raise ValueError("no logits files")
    reader = _Reader([evalset], include_step0)
    arrs = []
    for p in paths:
        arrs.append(reader.read(p)["sets"][evalset]["logits"].astype(np.float32))
    first = reader.ref
    s = first["sets"][evalset]
    return RunLogits(np.stack(arrs), s["ids"], s["labels"], first["steps"], first["epochs"],
                     tuple(str(p) for p in paths))


@dataclass
class FileAggregate:
    """Result of :func:`aggregate_files` for one run group."""
    agg: Aggregate            # the eval set
    global_acc: np.ndarray    # [K] reference-set accuracy of the same runs
    ids: np.ndarray
    steps: np.ndarray
    epochs: np.ndarray


def aggregate_files(paths: Sequence[str | os.PathLike], evalset: str, reference: str | None = None,
                    groups: Mapping[str, Sequence[int]] | None = None, *,
                    include_step0: bool = False, with_softmax: bool = True,
                    trained_ids: Sequence[np.ndarray] | None = None) -> dict[str, FileAggregate]:
    """Stream R files into one :class:`FileAggregate` per run group.

    groups: name -> positions in ``paths`` (default ``{"all": all}``); reference: the eval set
    defining the x-axis (default: ``evalset`` itself). trained_ids: per file, the example ids that
    run trained on; given, each ``evalset`` example is averaged only over the runs that held it
    out (the reference set is unaffected)."""
    if trained_ids is not None and len(trained_ids) != len(paths):
        raise ValueError(f"{len(trained_ids)} training-id sets for {len(paths)} files")
    if not paths:
        raise ValueError("no logits files")
    reference = evalset if reference is None else reference
    groups = {"all": range(len(paths))} if groups is None else groups
    member = {name: set(int(i) for i in runs) for name, runs in groups.items()}
    reader = _Reader([evalset, reference], include_step0)
    accs: dict = {}
    for r, path in enumerate(paths):
        names = [n for n, m in member.items() if r in m]
        if not names:
            continue
        data = reader.read(path)
        for name in names:
            if name not in accs:
                ev, rf = data["sets"][evalset], data["sets"][reference]
                accs[name] = (RunAccumulator(ev["labels"], with_softmax),
                              None if reference == evalset else
                              RunAccumulator(rf["labels"], with_softmax=False))
        e = data["sets"][evalset]
        for name in names:
            acc_e, acc_r = accs[name]
            weight = None if trained_ids is None else ~np.isin(e["ids"], trained_ids[r])
            acc_e.add(e["logits"], run_id=r, weight=weight)
            if acc_r is not None:
                acc_r.add(data["sets"][reference]["logits"], run_id=r)
    first = reader.ref
    out = {}
    for name in groups:
        if name not in accs:
            raise ValueError(f"run group {name!r} is empty")
        acc_e, acc_r = accs[name]
        agg = acc_e.result()
        out[name] = FileAggregate(agg, global_accuracy(agg if acc_r is None else acc_r.result()),
                                  first["sets"][evalset]["ids"], first["steps"], first["epochs"])
    return out
