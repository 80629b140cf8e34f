"""A per-experiment table of every run's final accuracy on each of its eval sets."""
from __future__ import annotations

import json

import h5py
import numpy as np
import pandas as pd

from pointwise.io import write_csv
from pointwise.provenance import provenance


def run_summary(logits_files: list[str]) -> pd.DataFrame:
    """One row per (run, eval set): experiment, arch, seed, steps, final accuracy, n examples."""
    rows = []
    for path in logits_files:
        with h5py.File(path, "r") as f:
            a = f.attrs
            for name, g in f.items():
                if not isinstance(g, h5py.Group):
                    continue
                final = g["logits"][-1].astype(np.float32)
                rows.append({
                    "experiment": a["experiment"], "arch": a["arch"], "seed_index": int(a["seed_index"]),
                    "eval_set": name, "dataset": g.attrs["dataset"], "split": g.attrs["split"],
                    "steps": int(f["steps"][-1]), "n": len(final),
                    "accuracy": float((final.argmax(1) == g["labels"][()]).mean()),
                    "path": path,
                })
    return pd.DataFrame(rows)


def write_run_summary(logits_files: list[str], out_path: str, config: dict | None = None) -> None:
    write_csv(run_summary(logits_files), out_path, provenance(config, inputs=logits_files))
