"""Paper 002 workflow glue: tables from run files (``knn.h5``, ``logits.h5``) and the claims.

Each function reads the files one rule names and writes that rule's outputs (CSV with a provenance
line); the arithmetic lives in the concept modules of :mod:`pointwise.depth`.

- :func:`write_run_table`: one row per query of one run (spec §6.1 ``prediction_depth.csv``):
  example_id, split, label, label_orig, net_pred, correct, pd, pd_defined, knn_pred_0..L,
  iter_learned, iter_learned_resc, output_margin, input_margin (NaN outside the splits whose input
  margin the probes computed); conf_label_0..L / conf_consensus_0..L are not stored (Fig 8 reads
  the k-NN votes in :func:`write_aggregates`).
- :func:`write_aggregates`: per_example.csv, by_depth.csv, groups.csv, group_layer_curves.csv,
  improvement.csv, inference_curve.csv, loo_by_depth.csv of one (experiment, arch).
- :func:`write_full_aggregates`: per_example.csv, by_depth.csv, loo_by_depth.csv of a FULL model
  (``papers.depth.full``: runs on the whole training set; Fig 4 middle, C.21, Fig 6, C.28-C.31).
- :func:`write_example_images`: example_images.csv, the examples Fig 1 left and Fig 7 show, with
  their pixels.
- :func:`write_learning_curve`: Fig 5 middle (network accuracy on the noise subsets at every eval
  point of the runs).
- :func:`write_k_sensitivity`: A.4 (k-NN accuracy by layer and PD ranking for several k, derived
  from one probe at the largest k).
- :func:`write_op_curves`: Fig A.9 (k-NN accuracy after each operation of the ``mlp_depth`` MLPs).
- :func:`write_lr_probes`: Fig E.48 (k-NN against logistic-regression probes of one run).
- :func:`write_correlations`: Fig 2 (split-half diagonal and cross-architecture Spearman).
- :func:`write_accuracy_table`: Table 2 (network accuracy per split, mean and sd over runs).
- :func:`write_depth_claims`: claims/depth.csv (spec §6.2).
"""
from __future__ import annotations

import logging
from collections import Counter

import h5py
import numpy as np
import pandas as pd

from pointwise.config import n_seeds
from pointwise.io import as_list, read_csv, write_csv
from pointwise.probes.knn import vote_fraction
from pointwise.provenance import provenance

from .aggregate import HELD_OUT, TEST, TRAIN, VAL_CODES, per_example, run_table, stack_runs
from .by_depth import loo_by_depth, mean_by_depth
from .consistency import consensus_class, vote_counts_runs
from .corners import GROUPS, corner_distances, corner_groups
from .correlation import log_pearson, spearman, split_half_spearman
from .improvement import improvement
from .iteration_learned import iteration_learned, rescale_iteration_learned
from .k_sensitivity import k_sensitivity
from .lr_probes import lr_vs_knn
from .margins import output_margin
from .op_curves import op_curves

log = logging.getLogger("pointwise.depth")

DEFAULTS = {
    "experiments": [],       # experiments whose runs are probed
    "archs": None,           # the archs of those experiments that are probed (None: every arch)
    "k": 30,                 # k-NN neighbours (paper A.4)
    "tie": "nearest",        # k-NN vote tie rule
    "il_quantile": 0.95,     # iteration learned rescaled at this percentile (footnote 6)
    "groups_n": 100,         # examples per corner group (Fig 7/8)
    "corners": "theoretical",
    "bins": 20,              # 2-D histogram bins of the figures
    "split_seed": 0,         # random halves of the runs (split-half Spearman, improvement)
    "noise": None,           # {experiment, arch}: the 40%-label-noise runs (Fig 5 middle/right)
    "full": {},              # SPLIT experiment -> its FULL experiment (Fig 4 middle, Fig 6, C.28-C.31)
    "input_margin": ["test"],  # query splits whose linearised input margin is computed (Fig 6 middle)
    "k_sensitivity": None,   # {seeds, ks, claim_ks}: the A.4 ablation on the first probed model
    "mlp_depth": None,       # {experiment, archs, seeds}: MLPs probed after every operation (Fig A.9)
    "lr_probes": None,       # {experiment, arch, seed, l2, max_iter, max_rows}: Fig E.48
    "examples": None,        # {n, classes, corner_class}: the images of Fig 1 left and Fig 7
    "probe_block": 1,        # runs per probe job and per run-table job
    "probe_runtime_minutes": 10,
    "probe_mem_mb": 4000,
}

K_SENSITIVITY = {"seeds": 2, "ks": [5, 10, 30, 100], "claim_ks": [10, 100]}
MLP_DEPTH = {"seeds": None}                                  # None: every run of the experiment
LR_PROBES = {"seed": 0, "l2": 1e-4, "max_iter": 100, "max_rows": None}
EXAMPLES = {"n": 6, "classes": None, "corner_class": None}

LOO_COLUMNS = ["depth", "count", "mass", "cstar", "cstar_sd", "entropy", "entropy_sd",
               "cstar_between_sd", "entropy_between_sd"]

SPLITS = {"train": (TRAIN,), "val": VAL_CODES, "held_out": (HELD_OUT,), "test": (TEST,)}


def settings(config: dict) -> dict | None:
    """``papers.depth`` of the config with defaults filled in; None when the section is absent."""
    sec = (config.get("papers") or {}).get("depth")
    if sec is None:
        return None
    out = {**DEFAULTS, **sec}
    for exp in out["experiments"]:
        if exp not in config["experiments"]:
            raise ValueError(f"papers.depth.experiments: unknown experiment {exp!r}")
    out["full"] = dict(out["full"] or {})
    for exp, full in out["full"].items():
        if exp not in out["experiments"]:
            raise ValueError(f"papers.depth.full: {exp!r} is not one of papers.depth.experiments")
        if full not in config["experiments"]:
            raise ValueError(f"papers.depth.full: unknown experiment {full!r} (FULL runs of {exp!r})")
        if full in out["experiments"]:
            raise ValueError(f"papers.depth.full: {full!r} is a SPLIT experiment of papers.depth.experiments")
        ds = (config["experiments"][exp]["dataset"], config["experiments"][full]["dataset"])
        if ds[0] != ds[1]:
            raise ValueError(f"papers.depth.full: {exp!r} is on {ds[0]!r} but its FULL runs {full!r} on {ds[1]!r}")
    if out["k_sensitivity"]:
        ks = {**K_SENSITIVITY, **out["k_sensitivity"]}
        ks["ks"] = sorted(set(ks["ks"]) | {out["k"]})            # the reference k is always derived
        ks["claim_ks"] = [k for k in ks["claim_ks"] if k in ks["ks"]]
        out["k_sensitivity"] = ks
    if out["mlp_depth"]:
        md = {**MLP_DEPTH, **out["mlp_depth"]}
        exp = md["experiment"]
        if exp not in config["experiments"]:
            raise ValueError(f"papers.depth.mlp_depth: unknown experiment {exp!r}")
        bad = [a for a in md["archs"] if a not in config["experiments"][exp]["archs"]]
        if bad:
            raise ValueError(f"papers.depth.mlp_depth: {exp} has no archs {bad}")
        n = n_seeds(config, exp)
        md["seeds"] = list(range(min(int(md["seeds"] or n), n)))
        out["mlp_depth"] = md
    out["examples"] = {**EXAMPLES, **(out["examples"] or {})}
    if out["lr_probes"]:
        lr = {**LR_PROBES, **out["lr_probes"]}
        if lr["experiment"] not in config["experiments"] or \
                lr["arch"] not in config["experiments"][lr["experiment"]]["archs"]:
            raise ValueError(f"papers.depth.lr_probes: no arch {lr['arch']!r} in experiment {lr['experiment']!r}")
        out["lr_probes"] = lr
    return out


def k_sensitivity_model(config: dict, st: dict) -> tuple[str, str, list[int], int] | None:
    """(experiment, arch, seeds, largest k) of the A.4 ablation: the first probed model's first
    ``seeds`` runs, probed once at the largest k; None when ``k_sensitivity`` is off."""
    ks = st["k_sensitivity"]
    if not ks:
        return None
    exp, arch = models(config, st)[0]
    return exp, arch, list(range(int(ks["seeds"]))), max(ks["ks"])


def archs_of(config: dict, st: dict, experiment: str) -> list[str]:
    """The probed archs of ``experiment``: its archs, filtered by ``papers.depth.archs``."""
    archs = list(config["experiments"][experiment]["archs"])
    return archs if st["archs"] is None else [a for a in archs if a in st["archs"]]


def models(config: dict, st: dict) -> list[tuple[str, str]]:
    """(experiment, arch) of every probed SPLIT model: the experiments' archs, then the noise model."""
    out = [(e, a) for e in st["experiments"] for a in archs_of(config, st, e)]
    if st["noise"]:
        out.append((st["noise"]["experiment"], st["noise"]["arch"]))
    return out


def full_models(config: dict, st: dict) -> list[tuple[str, str]]:
    """(FULL experiment, arch) of every probed FULL model: the archs of each ``full`` experiment,
    filtered by ``papers.depth.archs``, in the order of ``experiments``."""
    return [(st["full"][e], a) for e in st["experiments"] if e in st["full"]
            for a in archs_of(config, st, st["full"][e])]


def full_of(config: dict, st: dict, experiment: str, arch: str) -> tuple[str, str] | None:
    """The FULL model (FULL experiment, arch) of a SPLIT model, or None when it has none."""
    f = (st["full"].get(experiment), arch)
    return f if f in full_models(config, st) else None


def input_margin_splits(config: dict, st: dict, experiment: str, arch: str) -> list[str]:
    """The query splits whose input margin the probes of a run of (experiment, arch) compute: the
    ``input_margin`` splits for FULL models and for SPLIT models without a FULL model; none for
    SPLIT models with one (their FULL runs carry the margins) and for runs probed only for other
    figures (Fig A.9)."""
    if (experiment, arch) in full_models(config, st):
        return list(st["input_margin"])
    if (experiment, arch) not in models(config, st) or full_of(config, st, experiment, arch):
        return []
    return list(st["input_margin"])


def _prov(config, inputs):
    return provenance(config, inputs=[str(p) for p in inputs])


def _read_knn(path, with_neighbours=False):
    from pointwise.probes.run_probes import read_knn

    d = read_knn(path)
    if not with_neighbours:
        d.pop("neighbour_labels", None)
    return d


def eval_predictions(logits_path, dataset: str, ids) -> tuple[np.ndarray, np.ndarray]:
    """(steps [M+1], predictions [M+1, n]) of the examples ``ids`` at every eval point of a run,
    from the eval sets of ``logits.h5`` drawn from ``dataset``; -1 where an id is in none."""
    with h5py.File(logits_path, "r") as f:
        steps = f["steps"][()]
        pred = np.full((len(steps), len(ids)), -1, dtype=np.int64)
        ids = np.asarray(ids)
        for name in f:
            g = f[name]
            if not isinstance(g, h5py.Group) or g.attrs.get("dataset") != dataset:
                continue
            gid = g["ids"][()]
            order = np.argsort(gid)
            pos = np.clip(np.searchsorted(gid[order], ids), 0, len(gid) - 1)
            hit = gid[order][pos] == ids
            if hit.any():
                lg = g["logits"][()]                                  # [M+1, n_g, C]
                pred[:, hit] = lg[:, order[pos[hit]]].astype(np.float32).argmax(-1)
    return steps, pred


def run_frame(knn_path, logits_path, st: dict) -> pd.DataFrame:
    """The per-run table of one run (module docstring)."""
    knn = _read_knn(knn_path)
    df = run_table(knn)
    steps, preds = eval_predictions(logits_path, knn["attrs"]["dataset"], knn["query_ids"])
    seen = (preds >= 0).all(0)
    il = np.full(len(df), np.nan)
    if seen.any():
        il[seen] = iteration_learned(preds[:, seen], steps)
    df["iter_learned"] = il
    df["iter_learned_resc"] = rescale_iteration_learned(il, st["il_quantile"], pool=~np.isnan(il)) \
        if seen.any() else np.nan
    df["output_margin"] = output_margin(knn["logits"])
    df["input_margin"] = knn.get("input_margin", np.full(len(df), np.nan))
    df.insert(0, "seed_index", int(knn["attrs"]["seed_index"]))
    return df


def write_run_table(knn_path, logits_path, out, st: dict, config=None) -> pd.DataFrame:
    df = run_frame(knn_path, logits_path, st)
    write_csv(df, out, _prov(config, [knn_path, logits_path]))
    log.info("%s: %d queries, PD undefined for %d", out, len(df), int((~df["pd_defined"]).sum()))
    return df


def write_run_tables(knn_paths, logits_paths, outs, st: dict, config=None) -> None:
    """:func:`write_run_table` of a block of runs (parallel lists; a single path is one run)."""
    for knn_path, logits_path, out in zip(as_list(knn_paths), as_list(logits_paths), as_list(outs), strict=True):
        write_run_table(knn_path, logits_path, out, st, config=config)


def _L(tables) -> int:
    return sum(c.startswith("knn_pred_") for c in tables[0].columns) - 1


def _matrices(tables):
    pd_runs, ids = stack_runs(tables, "pd")
    split, _ = stack_runs(tables, "split", ids, fill=-1)
    net, _ = stack_runs(tables, "net_pred", ids, fill=-1)
    L = _L(tables)
    knn = np.stack([stack_runs(tables, f"knn_pred_{l}", ids, fill=-1)[0] for l in range(L + 1)], 1)
    lab = stack_runs(tables, "label", ids, fill=-1)[0].max(0)
    lab_orig = stack_runs(tables, "label_orig", ids, fill=-1)[0].max(0)
    extra = {k: stack_runs(tables, k, ids)[0] for k in ("iter_learned_resc", "output_margin", "input_margin")
             if k in tables[0].columns}
    corr = (net == lab[None]).astype(float)
    return {"pd": pd_runs, "ids": ids, "split": split, "net": net, "knn": knn, "label": lab,
            "label_orig": lab_orig, "extra": extra, "correct": corr, "L": L}


def _confidences(knn_paths, ids, classes):
    """Vote fraction [R, L+1, n] of class ``classes`` [n] (NaN where not a query) per run."""
    out = None
    for r, p in enumerate(knn_paths):
        d = _read_knn(p, with_neighbours=True)
        nb = d["neighbour_labels"]                                   # [L+1, q, k]
        if out is None:
            out = np.full((len(knn_paths), nb.shape[0], len(ids)), np.nan)
        pos = np.searchsorted(ids, d["query_ids"])
        cls = classes[pos]
        ok = cls >= 0
        out[r][:, pos[ok]] = vote_fraction(nb[:, ok], cls[ok][None])
    return out


def aggregates(run_csvs, knn_paths, st: dict) -> dict:
    """All per-(experiment, arch) tables as DataFrames (module docstring)."""
    tables = [read_csv(p) for p in run_csvs]
    m = _matrices(tables)
    L, C = m["L"], int(max(m["label"].max(), m["net"].max())) + 1
    ex = per_example(m["pd"], m["split"], m["ids"], m["label"], m["net"], C, extra=m["extra"])
    ex.insert(2, "label_orig", m["label_orig"])
    ex["flipped"] = m["label"] != m["label_orig"]
    dist = corner_distances(ex["mpd_val"], ex["mpd_train"], L, st["corners"])
    ex = pd.concat([ex, dist], axis=1)
    groups = corner_groups(ex["mpd_val"], ex["mpd_train"], L, n=st["groups_n"], ids=m["ids"],
                           corners=st["corners"])
    by_depth = _by_depth_table(m)
    # Fig 8: k-NN confidence and accuracy by layer per corner group, for GT and consensus class
    val = np.isin(m["split"], VAL_CODES)
    cons = ex["consensus"].to_numpy().astype(np.int64)
    curves = []
    for target, cls in (("label", m["label"].astype(np.int64)), ("consensus", cons)):
        conf = _confidences(knn_paths, m["ids"], cls)                         # [R, L+1, n]
        hit = (m["knn"] == cls[None, None]).astype(float)
        for g in GROUPS:
            cols = groups.loc[groups["group"] == g, "index"].to_numpy()
            msk = val[:, None, cols] & (cls[cols] >= 0)[None, None]
            msk = np.broadcast_to(msk, conf[:, :, cols].shape)
            with np.errstate(invalid="ignore", divide="ignore"):
                n = msk.sum((0, 2))
                cf = np.where(msk, conf[:, :, cols], 0).sum((0, 2)) / n
                ac = np.where(msk, hit[:, :, cols], 0).sum((0, 2)) / n
            curves.append(pd.DataFrame({"group": g, "target": target, "layer": np.arange(L + 1),
                                        "confidence": cf, "accuracy": ac, "n_pairs": n}))
    group_curves = pd.concat(curves, ignore_index=True)
    impr = improvement(m["pd"], m["split"], m["net"], m["knn"], m["label"], L, n=st["groups_n"],
                       corners=st["corners"], seed=st["split_seed"])
    # inference curve (Fig 5 right): k-NN accuracy by layer on subsets, against given and original labels
    inf = []
    subsets = {"train_clean": (m["split"] == TRAIN) & ~ex["flipped"].to_numpy()[None],
               "train_flipped": (m["split"] == TRAIN) & ex["flipped"].to_numpy()[None],
               "held_out": m["split"] == HELD_OUT, "test": m["split"] == TEST}
    for sub, mask in subsets.items():
        for against, y in (("given", m["label"]), ("original", m["label_orig"])):
            n = int(mask.sum())
            with np.errstate(invalid="ignore", divide="ignore"):
                acc = ((m["knn"] == y[None, None]) & mask[:, None]).sum((0, 2)) / n if n else \
                    np.full(L + 1, np.nan)
            inf.append(pd.DataFrame({"subset": sub, "against": against, "layer": np.arange(L + 1),
                                     "knn_accuracy": acc, "n_pairs": n}))
    return {"per_example": ex, "by_depth": by_depth, "groups": groups,
            "group_layer_curves": group_curves, "improvement": impr,
            "inference_curve": pd.concat(inf, ignore_index=True), "loo_by_depth": _loo_table(m, C)}


def _by_depth_table(m: dict) -> pd.DataFrame:
    """Accuracy, IL_resc, output and input margin against integer PD, per split of the occurrences
    (``by_depth.csv``), with the occurrence and undefined-PD counts of each split."""
    L, frames = m["L"], []
    for name, codes in SPLITS.items():
        mask = np.isin(m["split"], codes)
        if not mask.any():
            continue
        acc = mean_by_depth(m["pd"], m["correct"], mask, L, name="accuracy")
        il = mean_by_depth(m["pd"], m["extra"]["iter_learned_resc"], mask, L, name="il_resc")
        om = mean_by_depth(m["pd"], m["extra"]["output_margin"], mask, L, name="output_margin")
        im = mean_by_depth(m["pd"], m["extra"].get("input_margin", np.nan), mask, L, name="input_margin")
        n_occ = int(mask.sum())
        und = int((mask & np.isnan(m["pd"])).sum())
        frames.append(acc.join(il[["il_resc", "il_resc_sd"]]).join(om[["output_margin", "output_margin_sd"]])
                      .join(im[["input_margin", "input_margin_sd"]])
                      .assign(split=name, n_occurrences=n_occ, n_undefined=und))
    return pd.concat(frames, ignore_index=True)


def _loo_table(m: dict, C: int) -> pd.DataFrame:
    """Fig 4 middle / C.21 (``loo_by_depth.csv``): PD of a test example in one run against C* and
    the entropy of the other runs' predictions, over the test occurrences."""
    test = m["split"] == TEST
    loo = loo_by_depth(np.where(test, m["pd"], np.nan), m["net"], m["label"], C, mask=test, L=m["L"]) \
        if test.any() else pd.DataFrame(columns=LOO_COLUMNS)
    loo["n_runs"] = int(test.any(1).sum())
    return loo


#: the one-line-per-dataset figures of one arch (pointwise.figures.depth.DATASET_FIGS) -> the
#: per-model table each line comes from (Fig 4 middle: the FULL model's where there is one)
DATASET_FIGURE_TABLES = {"fig1_right_datasets": "by_depth", "fig4_middle_datasets": "loo_by_depth",
                         "fig4_right_datasets": "by_depth", "fig5_left_datasets": "by_depth"}


def shared_archs(config: dict, st: dict) -> list[str]:
    """The archs of two or more probed experiments: those whose one-line-per-dataset figures
    have more than one line (the paper scale), in first-seen order."""
    counts = Counter(a for e in st["experiments"] for a in archs_of(config, st, e))
    return [a for a, n in counts.items() if n > 1]


def dataset_figure_inputs(config: dict, st: dict, figure: str, arch: str) -> dict:
    """{"<table>::<line label>": csv path relative to the depth tables} of a one-line-per-dataset
    figure of ``arch``: one line per probed experiment with that arch, labelled by its dataset
    (by the experiment where two share a dataset); Fig 4 middle reads the FULL model's table
    where ``full`` names one."""
    table = DATASET_FIGURE_TABLES[figure]
    exps = [e for e in st["experiments"] if arch in archs_of(config, st, e)]
    ds = [config["experiments"][e]["dataset"] for e in exps]
    out = {}
    for e, d in zip(exps, ds):
        src = e
        if figure == "fig4_middle_datasets" and full_of(config, st, e, arch):
            src = st["full"][e]
        out[f"{table}::{d if ds.count(d) == 1 else e}"] = f"{src}/{arch}/{table}.csv"
    return out


#: the tables of a FULL model (:func:`full_aggregates`)
FULL_TABLES = ("per_example", "by_depth", "loo_by_depth")


def full_aggregates(run_csvs) -> dict:
    """The tables of a FULL model (runs on the whole training set, spec §2): ``per_example``
    (mPD, C*, entropy and mean margins over the training occurrences and the test occurrences,
    the ``_val`` columns), ``by_depth`` and ``loo_by_depth`` (PD in one run against the other runs'
    predictions, spec §3.5). The corner groups, Fig 8 and the improvement experiment need
    held-out occurrences and stay with the SPLIT model."""
    m = _matrices([read_csv(p) for p in run_csvs])
    if (m["split"] == HELD_OUT).any():
        raise ValueError("FULL runs hold no pool examples out; these run tables do (a SPLIT design?)")
    C = int(max(m["label"].max(), m["net"].max())) + 1
    ex = per_example(m["pd"], m["split"], m["ids"], m["label"], m["net"], C, extra=m["extra"])
    return {"per_example": ex, "by_depth": _by_depth_table(m), "loo_by_depth": _loo_table(m, C)}


def write_full_aggregates(run_csvs, outputs: dict, config=None) -> None:
    """Write every table of :func:`full_aggregates` to ``outputs[name]``."""
    tabs = full_aggregates(run_csvs)
    prov = _prov(config, run_csvs)
    for name, path in outputs.items():
        write_csv(tabs[name], path, prov)


def write_aggregates(run_csvs, knn_paths, outputs: dict, st: dict, config=None) -> None:
    """Write every table of :func:`aggregates` to ``outputs[name]``."""
    tabs = aggregates(run_csvs, knn_paths, st)
    prov = _prov(config, list(run_csvs) + list(knn_paths))
    for name, path in outputs.items():
        write_csv(tabs[name], path, prov)


def write_example_images(per_example_csv, by_depth_csv, data, out, st: dict, config=None) -> pd.DataFrame:
    """``example_images.csv`` of one model: the picks of :mod:`pointwise.depth.example_picks` (Fig 1
    left, Fig 7) with their images (:mod:`pointwise.data.image_table`)."""
    from pointwise.data.image_table import dataset_image_rows

    from .example_picks import corner_picks, fig1_picks

    ex = read_csv(per_example_csv)
    L = int(read_csv(by_depth_csv)["depth"].max())
    e = st["examples"]
    picks = pd.concat([fig1_picks(ex, int(e["n"]), e["classes"]),
                       corner_picks(ex, L, int(e["n"]), st["corners"], e["corner_class"])], ignore_index=True)
    img = dataset_image_rows(data, picks["example_id"].drop_duplicates().to_numpy())
    df = picks.merge(img.rename(columns={"id": "example_id"}), on="example_id", how="left")
    write_csv(df, out, _prov(config, [per_example_csv, by_depth_csv, data]))
    return df


def _noise_subsets(split, label, label_orig) -> dict:
    """The four example subsets of Fig 5 (plus held-out): boolean masks over the queries."""
    flipped = label != label_orig
    return {"train_clean": (split == TRAIN) & ~flipped, "train_flipped": (split == TRAIN) & flipped,
            "held_out": split == HELD_OUT, "test": split == TEST}


def learning_curve(knn_paths, logits_paths) -> pd.DataFrame:
    """Fig 5 middle (training learning curve): the network's accuracy at every eval point of each
    run on its clean training examples, its flipped training examples against the given (new) and
    the original label, its held-out and its test examples; mean and sd over runs per eval step.
    Predictions come from the eval sets of ``logits.h5``; a subset's accuracy counts the examples
    the run evaluated (``n_examples``, mean over runs)."""
    rows = []
    for r, (kp, lp) in enumerate(zip(knn_paths, logits_paths)):
        q = _read_knn(kp)
        lab = q["labels"].astype(np.int64)
        orig = q.get("labels_orig", q["labels"]).astype(np.int64)
        steps, preds = eval_predictions(lp, q["attrs"]["dataset"], q["query_ids"])       # [M+1, n]
        seen = preds >= 0
        for sub, mask in _noise_subsets(q["query_split"], lab, orig).items():
            for against, y in (("given", lab), ("original", orig)):
                sel = seen & mask[None]
                n = sel.sum(1)
                with np.errstate(invalid="ignore", divide="ignore"):
                    acc = ((preds == y[None]) & sel).sum(1) / n
                rows.append(pd.DataFrame({"run": r, "subset": sub, "against": against, "step": steps,
                                          "accuracy": np.where(n > 0, acc, np.nan), "n_examples": n}))
    long = pd.concat(rows, ignore_index=True)
    g = long.groupby(["subset", "against", "step"], sort=False)
    out = g.agg(accuracy=("accuracy", "mean"), accuracy_sd=("accuracy", "std"),
                n_runs=("accuracy", "count"), n_examples=("n_examples", "mean")).reset_index()
    return out


def write_learning_curve(knn_paths, logits_paths, out, config=None) -> None:
    write_csv(learning_curve(knn_paths, logits_paths), out,
              _prov(config, list(knn_paths) + list(logits_paths)))


def write_k_sensitivity(knn_paths, outputs: dict, st: dict, config=None) -> None:
    """``outputs``: {"k_sensitivity_accuracy": csv, "k_sensitivity_ranking": csv}, the two tables
    of :func:`k_sensitivity`."""
    ks = st["k_sensitivity"]
    acc, rank = k_sensitivity([_read_knn(p, with_neighbours=True) for p in knn_paths], ks["ks"], st["k"])
    prov = _prov(config, knn_paths)
    write_csv(acc, outputs["k_sensitivity_accuracy"], prov)
    write_csv(rank, outputs["k_sensitivity_ranking"], prov)


def write_op_curves(knn_by_arch: dict, out, config=None) -> pd.DataFrame:
    """Fig A.9 table (:func:`pointwise.depth.op_curves.op_curves`) from {arch: [knn.h5 paths]}."""
    df = op_curves({a: [_read_knn(p) for p in paths] for a, paths in knn_by_arch.items()})
    write_csv(df, out, _prov(config, [p for ps in knn_by_arch.values() for p in ps]))
    return df


def write_lr_probes(checkpoint, data, design, out, st: dict, config=None, device="auto",
                    threads=None) -> pd.DataFrame:
    """Fig E.48 table (:func:`pointwise.depth.lr_probes.lr_vs_knn`) of the ``lr_probes`` run."""
    lr = st["lr_probes"]
    df = lr_vs_knn(checkpoint, data, design, int(lr["seed"]), k=st["k"], tie=st["tie"], l2=float(lr["l2"]),
                   max_iter=int(lr["max_iter"]), max_rows=lr["max_rows"], split_seed=st["split_seed"],
                   device=device, threads=threads)
    write_csv(df, out, _prov(config, [checkpoint, data, design]))
    return df


def correlations(runs_by_arch: dict, st: dict) -> pd.DataFrame:
    """Fig 2 left (spec §3.10): rows split (train/val), arch_a, arch_b, rho, n; the diagonal is
    the split-half Spearman of mPD, off-diagonal the Spearman of the two archs' mPD."""
    mats = {a: _matrices([read_csv(p) for p in paths]) for a, paths in runs_by_arch.items()}
    rows = []
    for sname in ("train", "val"):
        codes = SPLITS[sname]
        mpd = {}
        for a, m in mats.items():
            ex = per_example(m["pd"], m["split"], m["ids"])
            mpd[a] = pd.Series(ex[f"mpd_{sname}"].to_numpy(), index=m["ids"])
        archs = list(mats)
        for i, a in enumerate(archs):
            for b in archs[i:]:
                if a == b:
                    m = mats[a]
                    rho, n = split_half_spearman(m["pd"], np.isin(m["split"], codes), seed=st["split_seed"])
                else:
                    j = mpd[a].index.intersection(mpd[b].index)
                    rho, n = spearman(mpd[a][j].to_numpy(), mpd[b][j].to_numpy())
                rows.append({"split": sname, "arch_a": a, "arch_b": b, "rho": rho, "n": n})
    return pd.DataFrame(rows)


def write_correlations(runs_by_arch: dict, out, st: dict, config=None) -> None:
    write_csv(correlations(runs_by_arch, st), out,
              _prov(config, [p for ps in runs_by_arch.values() for p in ps]))


def accuracy_table(run_csvs: dict) -> pd.DataFrame:
    """Table 2: per (experiment, arch, split) the network's mean/sd accuracy over runs, the number
    of runs, and the fraction of queries whose PD is undefined (softmax probe != network)."""
    rows = []
    for (exp, arch), paths in run_csvs.items():
        accs = {}
        for p in paths:
            t = read_csv(p)
            for sname, codes in (("train", (TRAIN,)), ("held_out", (HELD_OUT,)), ("test", (TEST,))):
                s = t[t["split"].isin(codes)]
                if len(s):
                    accs.setdefault(sname, []).append((s["correct"].mean(), (~s["pd_defined"]).mean()))
        for sname, v in accs.items():
            a = np.array(v)
            rows.append({"experiment": exp, "arch": arch, "split": sname, "n_runs": len(a),
                         "accuracy_mean": a[:, 0].mean(), "accuracy_sd": a[:, 0].std(ddof=1) if len(a) > 1 else np.nan,
                         "pd_undefined_fraction": a[:, 1].mean()})
    return pd.DataFrame(rows)


def write_accuracy_table(run_csvs: dict, out, config=None) -> None:
    write_csv(accuracy_table(run_csvs), out, _prov(config, [p for ps in run_csvs.values() for p in ps]))


def _auroc(score, positive) -> float:
    s = np.asarray(score, np.float64)
    y = np.asarray(positive, bool)
    ok = np.isfinite(s)
    s, y = s[ok], y[ok]
    if y.all() or not y.any():
        return float("nan")
    from scipy.stats import rankdata

    r = rankdata(s)
    n1, n0 = y.sum(), (~y).sum()
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def undefined_fraction(by_depth: pd.DataFrame) -> float:
    """Fraction of a model's (run, query) occurrences whose PD is undefined, from ``by_depth.csv``:
    each occurrence counted once (splits train, held_out, test; "val" repeats held_out + test)."""
    b = by_depth.drop_duplicates("split")
    b = b[b["split"].isin(["train", "held_out", "test"])]
    return float(b["n_undefined"].sum() / b["n_occurrences"].sum())


def _by_depth_rho(bd: pd.DataFrame, col: str, split: str = "val", min_mass: float = 0.01) -> float:
    """Spearman(d, col(d)) over the depths with mass >= min_mass; rounded to 12 decimals, since over
    a few depths rho takes exact values such as 0.8 that floating point lands just beside."""
    s = bd[(bd["split"] == split) & (bd["mass"] >= min_mass)]
    return round(spearman(s["depth"].to_numpy(), s[col].to_numpy())[0], 12) if len(s) >= 3 else float("nan")


def margin_and_loo_claims(tables: dict, ref: str, st: dict) -> list:
    """Claims C8, C8_input (Pearson of mean PD and log mean margin, test occurrences) and C3 (PD in
    one run against C* and entropy of the other runs) of model ``ref``: on its FULL tables (key
    "<FULL experiment>/<arch>") where ``papers.depth.full`` names them, as the paper does, else
    on its own tables (the SPLIT runs' test split standing in)."""
    from pointwise.claims import Claim

    exp, arch = ref.split("/", 1)
    fref = f"{st['full'][exp]}/{arch}" if exp in st.get("full", {}) else None
    key = fref if fref in tables else ref
    src = f"{key}, FULL runs, test split" if key != ref else f"{ref}, SPLIT runs' test split standing in for FULL"
    ex, loo = tables[key]["per_example"], tables[key].get("loo_by_depth")
    cl = []
    for cid, kind, paper in (("C8", "output", "-0.70"), ("C8_input", "input", "-0.69")):
        col = f"{kind}_margin_val"
        r, n = log_pearson(ex["mpd_val"], ex[col]) if col in ex else (float("nan"), 0)
        cl.append(Claim(cid, f"Margins: higher PD, smaller {kind} margin",
                        f"Pearson(mPD_val, log mean {kind} margin_val) over the examples with one ({src})",
                        "< 0", r, f"n={n}; paper: {paper} (VGG16 CIFAR-10 FULL ensemble, test split)"))
    has = loo is not None and len(loo) > 0
    for col, thr, what in (("cstar", "<= -0.8", "C* of the other runs falls"),
                           ("entropy", ">= 0.8", "entropy of the other runs rises")):
        rho = _by_depth_rho(loo.assign(split="test"), col, "test") if has else float("nan")
        cl.append(Claim(f"C3_{col}", f"PD in one run predicts the others' predictions: {what} with PD",
                        f"Spearman(d, mean {col} of the other runs (d)) over test depths with mass "
                        f">= 1% ({src})", thr, rho, f"{int(loo['n_runs'].iloc[0]) if has else 0} runs"))
    return cl


def depth_claims(tables: dict, correlation: pd.DataFrame, st: dict) -> list:
    """The spec §6.2 claims measurable from the tables of the main (experiment, arch) pairs.
    ``tables``: {"<experiment>/<arch>": {"per_example", "by_depth", "groups", "improvement",
    "inference_curve", ...}}; the first key is the reference model of single-model claims. With
    ``full`` configured, the FULL models' tables (:data:`FULL_TABLES`) are keys too, and C3, C8 and
    C8_input read the reference model's FULL ensemble, as the paper does."""
    from pointwise.claims import Claim

    ref = next(iter(tables))
    t = tables[ref]
    ex, bd, gr, im = t["per_example"], t["by_depth"], t["groups"], t["improvement"]
    cl = []
    rho, n = spearman(ex["mpd_val"], ex["cstar"])
    cl.append(Claim("C1", "PD tracks consistency: higher mean validation PD, lower C*",
                    f"Spearman(mPD_val, C*) over examples ({ref})", "< 0", rho, f"n={n}"))
    cl.append(Claim("C2", "PD predicts accuracy: acc(d) falls with d",
                    f"Spearman(d, acc(d)) over held-out+test depths with mass >= 1% ({ref})", "<= -0.8",
                    _by_depth_rho(bd, "accuracy")))
    diag = correlation[(correlation["arch_a"] == correlation["arch_b"]) & (correlation["split"] == "train")]
    cl.append(Claim("C4a", "PD is consistent across seeds: split-half Spearman of mPD_train",
                    "min over archs of the split-half Spearman (train occurrences)", "> 0.5",
                    float(diag["rho"].min()) if len(diag) else float("nan"),
                    "; ".join(f"{a}: {r:.3f}" for a, r in zip(diag["arch_a"], diag["rho"]))))
    off = correlation[(correlation["arch_a"] != correlation["arch_b"]) & (correlation["split"] == "train")]
    cl.append(Claim("C4b", "PD is consistent across architectures (conv vs MLP)",
                    "min cross-arch Spearman of mPD_train", "> 0",
                    float(off["rho"].min()) if len(off) else float("nan")))
    for sname in ("train", "val"):
        r, n = spearman(ex[f"mpd_{sname}"], ex[f"iter_learned_resc_{sname}"])
        cl.append(Claim(f"C5_{sname}", f"PD correlates with iteration learned ({sname} occurrences)",
                        f"Spearman(mPD_{sname}, mean IL_resc_{sname}) ({ref})", "> 0", r, f"n={n}"))
    cl.append(Claim("C5_curve", "Fig 5 left increases: mean IL_resc rises with PD",
                    f"Spearman(d, mean IL_resc(d)), held-out+test, mass >= 1% ({ref})", "> 0",
                    _by_depth_rho(bd, "il_resc")))
    cl += margin_and_loo_claims(tables, ref, st)
    mc = gr.merge(ex[["example_id", "cstar"]], on="example_id").groupby("group")["cstar"].mean()
    if all(g in mc for g in GROUPS):
        gap = min(mc["easy"], mc["looks_like_different"]) - max(mc["ambiguous"], mc["ambiguous_unless_label"])
    else:
        gap = float("nan")
    cl.append(Claim("C10", "Corner groups: the ambiguous groups have lower C* than easy / looks-like-different",
                    "min(C* easy, C* looks-like) - max(C* ambiguous, C* ambiguous-unless-label)", "> 0",
                    gap, "; ".join(f"{g}: {v:.3f}" for g, v in mc.items())))
    for sel in ("in_sample", "held_out"):
        s = im[im["selection"] == sel]
        best = float((s["knn_acc_pooled"] - s["net_acc_pooled"]).iloc[1:-1].max()) if len(s) > 2 else float("nan")
        cl.append(Claim(f"C11_{sel}", f"Improvement: a middle-layer k-NN beats the network on G_LR ({sel} selection)",
                        "max over middle layers of k-NN accuracy - network accuracy (pooled)", "> 0", best,
                        f"network {float(s['net_acc_pooled'].iloc[0]):.3f}" if len(s) else ""))
    und = [undefined_fraction(tb["by_depth"]) for tb in tables.values()]
    cl.append(Claim("C12", "Sanity: the softmax probe rarely disagrees with the network",
                    "max over models of the fraction of occurrences with undefined PD", "< 0.01", max(und),
                    ", ".join(f"{k}: {u:.4f}" for k, u in zip(tables, und))))
    ksr, kst = t.get("k_sensitivity_ranking"), st.get("k_sensitivity")
    if kst:
        s = ksr[ksr["k"].isin(kst["claim_ks"])] if ksr is not None else pd.DataFrame()
        cl.append(Claim("C13", "k insensitivity (A.4): the PD ranking is stable over k",
                        f"min over k in {kst['claim_ks']} and train/val occurrences of Spearman(mPD_k, "
                        f"mPD_{st['k']}) ({ref}, {kst['seeds']} runs)", "> 0.9",
                        float(s["spearman_vs_ref"].min()) if len(s) else float("nan"),
                        "; ".join(f"k={k} {sp}: {r:.3f}" for k, sp, r in
                                  zip(ksr["k"], ksr["split"], ksr["spearman_vs_ref"])) if ksr is not None else ""))
    noise = st.get("noise")
    if noise:
        key = f"{noise['experiment']}/{noise['arch']}"
        if key in tables:
            nx = tables[key]["per_example"]
            cl.append(Claim("C6", "Mislabeled examples have high PD_train",
                            f"AUROC(mPD_train -> flipped) ({key})", "> 0.8",
                            _auroc(nx["mpd_train"], nx["flipped"]), f"{int(nx['flipped'].sum())} flipped"))
            fl = nx[nx["flipped"] & (nx["consensus"] >= 0)]
            cl.append(Claim("C6b", "The consensus class of flipped examples is mostly their original label",
                            f"fraction of flipped examples with consensus == original label ({key})", "> 0.5",
                            float((fl["consensus"] == fl["label_orig"]).mean()) if len(fl) else float("nan")))
            ic = tables[key]["inference_curve"]
            f_orig = ic[(ic["subset"] == "train_flipped") & (ic["against"] == "original")]["knn_accuracy"].to_numpy()
            if len(f_orig) > 2:
                drop = float(np.nanmax(f_orig[:-1]) - f_orig[-1])
            else:
                drop = float("nan")
            cl.append(Claim("C7", "Inference curve under noise: k-NN accuracy of flipped examples against "
                            "their original label peaks before the softmax and falls",
                            f"max over layers < L of k-NN acc (original label) - acc at L ({key})", "> 0", drop))
    return cl


def write_depth_claims(inputs: dict, out, st: dict, config=None) -> None:
    """``inputs``: "<experiment>/<arch>/<table>" -> csv path, plus "correlation" -> csv path and,
    with HINGE, "hinge:table4" / "hinge:knn_by_layer" (the C9 rows; NO DATA without them)."""
    from pointwise.claims import write_claims

    from .hinge import hinge_claims_from

    tables: dict = {}
    for key, path in inputs.items():
        if key == "correlation" or key.startswith("hinge:"):
            continue
        model, name = key.rsplit("/", 1)
        tables.setdefault(model, {})[name] = read_csv(path)
    corr = read_csv(inputs["correlation"])
    write_claims(depth_claims(tables, corr, st) + hinge_claims_from(inputs), out,
                 _prov(config, list(inputs.values())))
