"""Per-experiment tables of the runs: final accuracies and accuracy at every eval point."""
from __future__ import annotations

import h5py
import numpy as np
import pandas as pd

from pointwise.io import write_csv
from pointwise.provenance import provenance


def learning_curves(logits_files: list[str]) -> pd.DataFrame:
    """One row per (run, eval set, eval point): experiment, arch, seed_index, eval_set, dataset,
    split, step, epoch, accuracy."""
    frames = []
    for path in logits_files:
        with h5py.File(path, "r") as f:
            a = f.attrs
            steps, epochs = f["steps"][()], f["epochs"][()]
            for name, g in f.items():
                if not isinstance(g, h5py.Group):
                    continue
                acc = (g["logits"][()].argmax(-1) == g["labels"][()][None]).mean(1)
                frames.append(pd.DataFrame({
                    "experiment": a["experiment"], "arch": a["arch"], "seed_index": int(a["seed_index"]),
                    "eval_set": name, "dataset": g.attrs["dataset"], "split": g.attrs["split"],
                    "step": steps, "epoch": epochs, "accuracy": acc.astype(np.float64),
                }))
    return pd.concat(frames, ignore_index=True)


def run_summary(logits_files: list[str]) -> pd.DataFrame:
    """One row per (run, eval set) at the final eval point, with the number of examples."""
    curves = learning_curves(logits_files)
    last = curves[curves["step"] == curves.groupby(["arch", "seed_index"])["step"].transform("max")]
    sizes = []
    for path in logits_files:
        with h5py.File(path, "r") as f:
            sizes += [(f.attrs["arch"], int(f.attrs["seed_index"]), k, len(g["ids"]))
                      for k, g in f.items() if isinstance(g, h5py.Group)]
    n = pd.DataFrame(sizes, columns=["arch", "seed_index", "eval_set", "n"])
    return last.merge(n, on=["arch", "seed_index", "eval_set"]).reset_index(drop=True)


def write_run_tables(logits_files: list[str], summary_path: str, curves_path: str,
                     config: dict | None = None) -> None:
    prov = provenance(config, inputs=logits_files)
    write_csv(run_summary(logits_files), summary_path, prov)
    write_csv(learning_curves(logits_files), curves_path, prov)
