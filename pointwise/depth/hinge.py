"""The 0-Hinge + full-batch GD intervention of paper 002 (HINGE; §3.3, A.7; spec §3.12, §4.5, §6.2 C9).

The paper trains four loss x optimiser combinations -- cross-entropy or the zero-margin hinge
Σ_{j≠y} max(0, z_j − z_y) (sign erratum corrected, spec §3.12), each with SGD at a large learning
rate or full-batch GD at a small one -- and compares them with an untrained network: the
combination of both changes leaves a tiny output margin (Table 4) and clusters the training split
only in the last layers (Fig 6 right, A.12). ``papers.depth.hinge`` names the (experiment, arch)
of each role in :data:`ROLES`; every run is probed with :func:`pointwise.probes.run_probes.run_probes`.

- :func:`final_metrics`: accuracy and mean margins per query split of one final network, from the
  float32 logits of its ``knn.h5`` (the fp16 eval logits cannot resolve margins of 1e-4);
- :func:`knn_accuracy`: k-NN probe accuracy per probe and query split (Fig 6 right, A.12);
- :func:`accuracy_curves`: the network's accuracy per split at every eval point (A.11);
- :func:`hinge_tables` / :func:`write_hinge_tables`: ``table4.csv``, ``knn_by_layer.csv``,
  ``curves.csv`` (mean and sd over seeds where a table summarises runs);
- :func:`clustering_depth` and :func:`hinge_claims`: the C9 rows of ``claims/depth.csv``.
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .aggregate import HELD_OUT, TEST, TRAIN

log = logging.getLogger("pointwise.depth")

#: role -> the paper's name of the combination (Tables 3, 4); "untrained" is the fresh network.
ROLES = {"ce_sgd": "CE, SGD", "ce_gd": "CE, GD", "zh_sgd": "0-Hinge, SGD", "zh_gd": "0-Hinge, GD",
         "untrained": "untrained"}
SPLIT_CODES = {"train": TRAIN, "held_out": HELD_OUT, "test": TEST}
METRICS = ("accuracy", "output_margin", "label_margin")


def combinations(config: dict, st: dict | None) -> dict[str, tuple[str, str]]:
    """role -> (experiment, arch) from ``papers.depth.hinge``; {} when it is absent or null.
    Raises ValueError naming the key when a role, experiment or arch is unknown or missing."""
    sec = (st or {}).get("hinge")
    if not sec:
        return {}
    missing = [r for r in ROLES if r not in sec]
    unknown = [r for r in sec if r not in ROLES]
    if missing or unknown:
        raise ValueError(f"papers.depth.hinge: needs exactly the roles {list(ROLES)} "
                         f"(missing {missing}, unknown {unknown})")
    out = {}
    for role in ROLES:
        exp, arch = sec[role]["experiment"], sec[role]["arch"]
        if exp not in config["experiments"]:
            raise ValueError(f"papers.depth.hinge.{role}.experiment: unknown experiment {exp!r}")
        if arch not in config["experiments"][exp]["archs"]:
            raise ValueError(f"papers.depth.hinge.{role}.arch: experiment {exp!r} has no arch {arch!r}")
        out[role] = (exp, arch)
    return out


# ----------------------------------------------------------------------------- measures

def label_margin(logits, labels) -> np.ndarray:
    """z_y − max_{c≠y} z_c float64 [n] of logits [n, C] (positive iff correctly classified);
    the same quantity the training engine records per presentation."""
    import torch

    from pointwise.train.losses import label_margin as _label_margin

    z = torch.as_tensor(np.asarray(logits, dtype=np.float64))
    y = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    return _label_margin(z, y).numpy()


def final_metrics(logits, labels, split) -> dict:
    """Accuracy, mean output margin (largest − second-largest logit, paper §3.3) and mean label
    margin (z_y − max_{c≠y} z_c) of a final network on each query split present:
    {"<split>_accuracy", "<split>_output_margin", "<split>_label_margin", "<split>_n"}."""
    from .margins import output_margin

    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    split = np.asarray(split)
    om, lm = output_margin(z), label_margin(z, y)
    correct = z.argmax(1) == y
    out = {}
    for name, code in SPLIT_CODES.items():
        m = split == code
        if not m.any():
            continue
        out.update({f"{name}_accuracy": float(correct[m].mean()), f"{name}_output_margin": float(om[m].mean()),
                    f"{name}_label_margin": float(lm[m].mean()), f"{name}_n": int(m.sum())})
    return out


def knn_accuracy(knn_pred, labels, split) -> pd.DataFrame:
    """k-NN accuracy of every probe on each query split present: columns split, layer,
    knn_accuracy, n. ``knn_pred`` [L+1, n] (probe 0 the input, L the softmax)."""
    h = np.asarray(knn_pred)
    y = np.asarray(labels)
    split = np.asarray(split)
    rows = []
    for name, code in SPLIT_CODES.items():
        m = split == code
        if m.any():
            acc = (h[:, m] == y[m][None]).mean(1)
            rows.append(pd.DataFrame({"split": name, "layer": np.arange(h.shape[0]), "knn_accuracy": acc,
                                      "n": int(m.sum())}))
    return pd.concat(rows, ignore_index=True)


def accuracy_curves(steps, preds, labels, split) -> pd.DataFrame:
    """The network's accuracy at every eval point on each query split: columns split, step,
    accuracy, n. ``preds`` [M+1, n] at ``steps`` [M+1]; examples with a -1 (not in any eval set)
    at some eval point are left out of their split."""
    p = np.asarray(preds)
    y = np.asarray(labels)
    split = np.asarray(split)
    seen = (p >= 0).all(0)
    rows = []
    for name, code in SPLIT_CODES.items():
        m = (split == code) & seen
        if m.any():
            rows.append(pd.DataFrame({"split": name, "step": np.asarray(steps),
                                      "accuracy": (p[:, m] == y[m][None]).mean(1), "n": int(m.sum())}))
    cols = ["split", "step", "accuracy", "n"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)


def clustering_depth(acc, fraction: float = 0.5) -> float:
    """First probe l at which the k-NN accuracy curve acc [L+1] has covered ``fraction`` of its
    rise from the input probe to the softmax probe: min{l : acc[l] >= acc[0] + fraction (acc[L] −
    acc[0])}. NaN when the curve does not rise (acc[L] <= acc[0]) or has NaNs."""
    a = np.asarray(acc, dtype=np.float64)
    if a.size < 2 or not np.isfinite(a).all() or a[-1] <= a[0]:
        return float("nan")
    level = a[0] + fraction * (a[-1] - a[0])
    return float(np.flatnonzero(a >= level - 1e-12)[0])


def _mean_sd(df: pd.DataFrame, by: list[str], cols: list[str]) -> pd.DataFrame:
    """Mean, sd (ddof 1; NaN for one seed) and seed count of ``cols`` over the rows of each group."""
    g = df.groupby(by, sort=False)
    mean, sd = g[cols].mean(), g[cols].std(ddof=1)
    out = pd.concat({f"{c}_{s}": v[c] for c in cols for s, v in (("mean", mean), ("sd", sd))}, axis=1)
    out["n_seeds"] = g.size()
    return out.reset_index()


# ----------------------------------------------------------------------------- tables

def hinge_tables(runs: dict) -> dict[str, pd.DataFrame]:
    """Table 4, the k-NN accuracy by layer and the training curves of the HINGE runs.

    ``runs``: role -> {"experiment", "arch", "knn": [knn.h5 per seed], "logits": [logits.h5 per
    seed]} (the logits only for the curves). Returns {"table4", "knn_by_layer", "curves"}:

    - table4: one row per role: combination name, experiment, arch, n_seeds and mean/sd over seeds
      of accuracy, output margin and label margin on the training and test queries (held-out too
      when the design holds examples out);
    - knn_by_layer: role, combination, split, layer, probe, knn_accuracy_mean/sd over seeds,
      n_seeds, n;
    - curves: role, combination, seed_index, split, step, accuracy, n (one line per seed, A.11).
    """
    from pointwise.probes.run_probes import read_knn

    from .pipeline import eval_predictions

    finals, layers, curves = [], [], []
    for role, spec in runs.items():
        logits_files = spec.get("logits") or [None] * len(spec["knn"])
        for knn_path, logits_path in zip(spec["knn"], logits_files):
            q = read_knn(knn_path)
            seed = int(q["attrs"]["seed_index"])
            base = {"role": role, "seed_index": seed}
            finals.append({**base, **final_metrics(q["logits"], q["labels"], q["query_split"])})
            by_layer = knn_accuracy(q["knn_pred"], q["labels"], q["query_split"])
            by_layer["probe"] = np.asarray(q["attrs"]["probe_names"])[by_layer["layer"].to_numpy()]
            layers.append(by_layer.assign(**base))
            if logits_path is not None:
                steps, preds = eval_predictions(logits_path, q["attrs"]["dataset"], q["query_ids"])
                curves.append(accuracy_curves(steps, preds, q["labels"], q["query_split"]).assign(**base))
            log.info("HINGE %s seed %d: %s", role, seed, {key: round(v, 6) for key, v in finals[-1].items()
                                                          if key.endswith(("accuracy", "output_margin"))})
    fin = pd.DataFrame(finals)
    cols = [c for c in fin.columns if c.endswith(METRICS)]
    t4 = _mean_sd(fin, ["role"], cols)
    t4.insert(1, "combination", t4["role"].map(ROLES))
    t4.insert(2, "experiment", t4["role"].map({r: s["experiment"] for r, s in runs.items()}))
    t4.insert(3, "arch", t4["role"].map({r: s["arch"] for r, s in runs.items()}))
    lay = pd.concat(layers, ignore_index=True)
    kbl = _mean_sd(lay, ["role", "split", "layer", "probe"], ["knn_accuracy"])
    kbl = kbl.merge(lay.groupby(["role", "split", "layer"])["n"].mean().reset_index(), on=["role", "split", "layer"])
    cols = ["role", "seed_index", "split", "step", "accuracy", "n"]
    cur = pd.concat(curves, ignore_index=True)[cols] if curves else pd.DataFrame(columns=cols)
    for t in (kbl, cur):
        t.insert(1, "combination", t["role"].map(ROLES))
    return {"table4": t4, "knn_by_layer": kbl, "curves": cur}


def write_hinge_tables(runs: dict, outputs: dict, config=None) -> None:
    """Write the tables of :func:`hinge_tables` to ``outputs[name]`` with their provenance."""
    from pointwise.io import write_csv
    from pointwise.provenance import provenance

    tabs = hinge_tables(runs)
    prov = provenance(config, inputs=[str(p) for s in runs.values()
                                      for p in list(s["knn"]) + list(s.get("logits") or [])])
    for name, path in outputs.items():
        write_csv(tabs[name], path, prov)


#: probes of at most this dimension (the softmax of up to 100 classes) use direct differences:
#: with output margins of 1e-4 the softmax rows are nearly equal and the norm expansion of the
#: distances would cancel in fp32 (:mod:`pointwise.probes.knn`)
DIRECT_MAX_DIM = 100


def probe_runs(runs: list[dict], *, k: int, tie: str, device="auto", threads=None, config=None,
               log_path=None, direct_max_dim: int = DIRECT_MAX_DIM) -> None:
    """k-NN probes (``knn.h5``) of several runs in one job: ``runs`` = [{"checkpoint", "data",
    "design", "out", "seed"}]; each is :func:`pointwise.probes.run_probes.run_probes`."""
    from pointwise.probes.run_probes import run_probes

    for r in runs:
        run_probes(r["checkpoint"], r["data"], r["design"], r["out"], int(r["seed"]), k=k, tie=tie,
                   direct_max_dim=direct_max_dim, device=device, threads=threads, config=config,
                   log_path=log_path)


# ----------------------------------------------------------------------------- claims

def _curve(knn: pd.DataFrame, role: str, split: str = "train") -> np.ndarray:
    s = knn[(knn["role"] == role) & (knn["split"] == split)].sort_values("layer")
    return s["knn_accuracy_mean"].to_numpy(dtype=np.float64)


def hinge_claims(table4: pd.DataFrame | None = None, knn: pd.DataFrame | None = None) -> list:
    """Spec §6.2 claim 9 measured on Table 4 and the k-NN accuracy by layer (NO DATA without them):

    - C9_margin: log10(mean output margin of CE+SGD / of 0-Hinge+GD), training queries, >= 2;
    - C9_smallest: log10(smallest margin of the other three combinations / 0-Hinge+GD's), > 0;
    - C9_late: clustering depth (:func:`clustering_depth`, half of the input-to-softmax rise of the
      training-split k-NN accuracy, seed mean) of 0-Hinge+GD minus that of CE+SGD, > 0;
    - C9_last: 0-Hinge+GD clustering depth / L, > 0.75 (only the last quarter of the probes);
    - C9_untrained: over probes 1..L-2, the mean training-split k-NN accuracy gain of 0-Hinge+GD
      over the untrained network divided by that of CE+SGD, < 0.25 ("only marginally above").
    """
    from pointwise.claims import Claim

    nan = float("nan")
    m = {}
    if table4 is not None and len(table4):
        m = dict(zip(table4["role"], table4["train_output_margin_mean"].astype(float)))
    ce, zh = m.get("ce_sgd", nan), m.get("zh_gd", nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = float(np.log10(ce / zh)) if np.isfinite(ce) and np.isfinite(zh) and ce > 0 and zh >= 0 else nan
        others = [m.get(r, nan) for r in ("ce_sgd", "ce_gd", "zh_sgd")]
        nxt = float(np.nanmin(others)) if np.isfinite(others).any() else nan
        smallest = float(np.log10(nxt / zh)) if np.isfinite(nxt) and np.isfinite(zh) and nxt > 0 and zh >= 0 else nan
    margins = "; ".join(f"{ROLES[r].replace(', ', '+')} {m[r]:.3g}" for r in ROLES if r in m)
    cl = [Claim("C9_margin", "HINGE: 0-Hinge + GD leaves an output margin orders of magnitude below CE + SGD",
                "log10(mean output margin CE+SGD / 0-Hinge+GD), training queries, mean over seeds", ">= 2",
                ratio, f"{margins}; paper: 1.6e1 vs 2.0e-4"),
          Claim("C9_smallest", "HINGE: 0-Hinge + GD has the smallest output margin of the four combinations",
                "log10(smallest mean output margin of the other three / 0-Hinge+GD's)", "> 0", smallest,
                f"{margins}; paper: 10^2 below the next smallest")]
    d_zh = d_ce = gain = L = nan
    note = note_gain = ""
    if knn is not None and len(knn):
        a_zh, a_ce, a_un = _curve(knn, "zh_gd"), _curve(knn, "ce_sgd"), _curve(knn, "untrained")
        if len(a_zh) and len(a_zh) == len(a_ce):
            L = len(a_zh) - 1
            d_zh, d_ce = clustering_depth(a_zh), clustering_depth(a_ce)
            note = f"L = {L}; depth CE+SGD {d_ce:g}, 0-Hinge+GD {d_zh:g}"
            if len(a_un) == len(a_zh) and L >= 3:
                mid = slice(1, L - 1)
                g_zh, g_ce = np.mean(a_zh[mid] - a_un[mid]), np.mean(a_ce[mid] - a_un[mid])
                gain = float(g_zh / g_ce) if g_ce > 0 else nan
                note_gain = f"mean gain over untrained, probes 1..{L - 2}: 0-Hinge+GD {g_zh:.4f}, CE+SGD {g_ce:.4f}"
    cl += [Claim("C9_late", "HINGE: 0-Hinge + GD clusters the training split later than CE + SGD",
                 "clustering depth (first probe covering half the input-to-softmax rise of the "
                 "training-split k-NN accuracy) of 0-Hinge+GD minus CE+SGD", "> 0", d_zh - d_ce, note),
           Claim("C9_last", "HINGE: 0-Hinge + GD clusters the training split only in the last probes",
                 "clustering depth of 0-Hinge+GD / L", "> 0.75", d_zh / L if np.isfinite(L) else nan, note),
           Claim("C9_untrained", "HINGE: elsewhere 0-Hinge + GD is only marginally above the untrained network",
                 "mean training-split k-NN accuracy gain over the untrained net on probes 1..L-2, "
                 "0-Hinge+GD / CE+SGD", "< 0.25", gain, note_gain or note)]
    return cl


HINGE_KEYS = ("hinge:table4", "hinge:knn_by_layer")


def hinge_claims_from(inputs: dict) -> list:
    """:func:`hinge_claims` from the claim rule's inputs ("hinge:table4", "hinge:knn_by_layer" ->
    csv path); NO DATA rows when HINGE is not configured."""
    from pointwise.io import read_csv

    if not all(k in inputs for k in HINGE_KEYS):
        return hinge_claims()
    return hinge_claims(read_csv(inputs["hinge:table4"]), read_csv(inputs["hinge:knn_by_layer"]))
