"""Paper 001 tables from the workflow's runs (or imported predictions): the entry points of the
``robustness_*`` workflow scripts, one function per rule (docs/papers/robustness.md).

Every ``write_*`` reads files, calls the pure functions of this package and writes its tables
atomically with a provenance record. Accuracies and ER are fractions in every table (figures and
claims convert to percentage points). Test sets are named by role (``id``, then the OOD roles of
``papers.robustness.ood_sets``); see :mod:`.settings`.

Table files (under ``tables/robustness/``):

===========================================  =================================================
``{pset}/predictions.h5``                     per-model predictions (``testbed`` = the
                                              workflow's testbed, ``imported_<name>``)
``{pset}/testbed_acc.csv``                    per-model accuracy and 95% CP bounds per set
``{pset}/table2_scaling_r2.csv``              R² of the testbed fit per scaling (Table 2)
``{pset}/table3_fit_params.csv``              logit-space A, B per OOD set (Table 3)
``{pset}/fits.csv``                           every scaling × OOD set fit
``{pset}/model_er.csv``                       β, ER and its CP bar for every model
``{pset}/dominance_*.csv`` ...                per-example analyses (dominance, unique-correct,
                                              triplets)
``{pset}/per_example.csv``                    one row per ID example: testbed models right
                                              (the atlas's paper-001 lens)
``runs/accuracies.csv``                       accuracy of every fine-tuning run at every eval point
``er/points.csv`` ``er/binned.csv``           per-checkpoint ER and its 100-bin averages
``er/max_er.csv`` ``er/sweeps.csv``           max ER per configuration, per sweep value
``er/gap_reference.csv`` ``er/mixed_classifier.csv``  App. D quantities
``special/special_models.csv`` (+ ``.h5``)    max-ER / converged checkpoints (§3.12)
``zeroshot/zeroshot.csv`` (+ ``.h5``)         class-mapped zero-shot (§3.11)
``difficulty/cscore.csv`` ``subsets.csv`` ``phaseout.csv``   C-score proxy (§3.10)
``difficulty/phaseout_examples.csv``          each example's last kept epoch per schedule (the
                                              phase-out designs' epoch masks)
===========================================  =================================================
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Mapping, Sequence

import h5py
import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from pointwise.io import read_csv, write_csv
from pointwise.provenance import provenance

from .cscore import difficulty_subset, holdout_cscore, phaseout_schedule
from .dominance import dominance_matrix, dominance_pairs
from .fit import PAPER_TABLE2, PAPER_TABLE3, LinearFit, baseline, effective_robustness, fit_testbed
from .gap import accuracy_gap, crossover, gap_fraction, gap_peak, mixed_classifier
from .intervals import clopper_pearson
from .predictions import (EvalSet, Predictions, import_prediction_dir, predictions_from_logits_h5,
                          read_predictions_h5, run_accuracies, write_predictions_h5)
from .scaling import SCALINGS
from .selection import converged_checkpoint, max_er_checkpoint
from .trajectory import binned_statistics, pool_runs, summarize_runs
from .triplets import triplet_cone
from .unique_correct import testbed_example_table, unique_correct, unique_correct_examples
from .zeroshot import AGGREGATIONS, class_mapped_scores, load_class_map

log = logging.getLogger("pointwise.robustness")


# ------------------------------------------------------------------------------ predictions I/O

def read_roles(path) -> dict[str, str]:
    """{model: role} stored with a predictions file (``testbed``, ``special``, ``zeroshot``,
    ``other``); every model is ``testbed`` when the file records none."""
    with h5py.File(path, "r") as f:
        models = json.loads(f.attrs["models"])
        roles = json.loads(f.attrs["roles"]) if "roles" in f.attrs else {}
    return {m: roles.get(m, "testbed") for m in models}


def _write_preds(preds: Predictions, roles: Mapping[str, str], path, config, inputs, **extra) -> None:
    write_predictions_h5(preds, path, provenance(config, inputs=inputs, roles=dict(roles), **extra))


def load_prediction_sets(paths: Sequence) -> tuple[Predictions, dict[str, str]]:
    """Merge several predictions files (same sets and examples) into one table with roles."""
    paths = list(paths)
    preds = read_predictions_h5(paths[0])
    roles = read_roles(paths[0])
    for p in paths[1:]:
        other = read_predictions_h5(p)
        common = [s for s in preds.sets if s in other.sets]
        preds = Predictions(preds.models, {s: preds.sets[s] for s in common}).merge(
            Predictions(other.models, {s: other.sets[s] for s in common}))
        roles.update(read_roles(p))
    return preds, roles


def _accuracy_table(preds: Predictions, roles: Mapping[str, str], alpha: float) -> pd.DataFrame:
    t = preds.wide_table(alpha)
    t.insert(1, "role", [roles.get(m, "testbed") for m in preds.models])
    parts = t["model"].str.split("/", expand=True)
    if parts.shape[1] == 3 and t["role"].eq("testbed").all():
        t.insert(2, "experiment", parts[0])
        t.insert(3, "arch", parts[1])
        t.insert(4, "seed", parts[2].str.lstrip("s"))
    return t


def write_testbed(logits: Mapping[str, str], sets: Mapping[str, str], out_h5, out_csv,
                  settings: Mapping, config=None) -> None:
    """Testbed predictions (final eval point of every testbed run) in the per-model format, and
    ``testbed_acc.csv``. ``logits``: model name -> logits.h5; ``sets``: role -> eval set."""
    preds = predictions_from_logits_h5(dict(logits), dict(sets))
    roles = {m: "testbed" for m in preds.models}
    inputs = list(logits.values())
    _write_preds(preds, roles, out_h5, config, inputs)
    write_csv(_accuracy_table(preds, roles, settings["alpha"]), out_csv,
              provenance(config, inputs=inputs))
    log.info("testbed: %d models; ID accuracy %.3f .. %.3f", len(preds.models),
             preds.accuracy("id").min(), preds.accuracy("id").max())


def write_import(root, spec: Mapping, out_h5, out_csv, settings: Mapping, config=None) -> None:
    """Published predictions (``root/labels/{set}.*``, ``root/{model}/{set}.*``; JSON lists or
    ``.npy``, predicted labels or logits) -> the per-model format with sets named by role.

    ``spec``: :func:`~pointwise.robustness.settings.imported_spec` (id file-set, OOD roles,
    the models that are not testbed models)."""
    root = Path(root)
    if spec["ood"] is None:
        stems = sorted({p.stem for p in (root / "labels").iterdir() if p.suffix in (".json", ".npy")})
        ood = {s: s for s in stems if s != spec["id"]}
    else:
        ood = dict(spec["ood"])
    if not ood:
        raise ValueError(f"imported predictions in {root}: no OOD label file besides '{spec['id']}'")
    file_sets = [spec["id"], *ood.values()]
    raw = import_prediction_dir(root, sets=file_sets, num_classes=spec.get("num_classes"))
    unknown = set(spec["others"]) - set(raw.models)
    if unknown:
        raise ValueError(f"imported predictions in {root}: 'others' names unknown models {sorted(unknown)}")
    preds = Predictions(raw.models, {"id": raw.sets[spec["id"]], **{r: raw.sets[f] for r, f in ood.items()}})
    roles = {m: ("other" if m in spec["others"] else "testbed") for m in preds.models}
    if list(roles.values()).count("testbed") < 2:
        raise ValueError(f"imported predictions in {root}: the fit needs at least 2 testbed models")
    inputs = sorted(str(p) for p in root.rglob("*") if p.is_file())
    _write_preds(preds, roles, out_h5, config, inputs, imported_from=str(root))
    write_csv(_accuracy_table(preds, roles, settings["alpha"]), out_csv, provenance(config, inputs=inputs))


# -------------------------------------------------------------------------------------- the fit

def _fit(preds: Predictions, idx, role: str, scaling: str, clip: bool) -> LinearFit:
    ids, ood = preds.sets["id"], preds.sets[role]
    return fit_testbed(ids.accuracy[idx], ood.accuracy[idx], scaling,
                       n_id=ids.n if clip else None, n_ood=ood.n if clip else None)


def fit_tables(preds: Predictions, roles: Mapping[str, str], settings: Mapping) -> dict[str, pd.DataFrame]:
    """Table 2 (R² per scaling and OOD set, next to the paper's), Table 3 (logit-space constants,
    next to the paper's), every fit, and every model's β / ER with its CP error bar."""
    tb = np.array([roles.get(m, "testbed") == "testbed" for m in preds.models])
    idx = np.flatnonzero(tb)
    oods = [s for s in preds.sets if s != "id"]
    fits = {(r, s): _fit(preds, idx, r, s, settings["clip"]) for r in oods for s in SCALINGS}
    t2 = pd.DataFrame([{"scaling": s, **{r: fits[(r, s)].r2 for r in oods},
                        **{f"paper_{k}": v[s] for k, v in PAPER_TABLE2.items()}} for s in SCALINGS])
    main = settings["scaling"]
    t3 = [{"source": "measured", "ood_set": r, "scaling": main, "A": fits[(r, main)].A,
           "B": fits[(r, main)].B, "r": fits[(r, main)].r, "r2": fits[(r, main)].r2,
           "stderr": fits[(r, main)].stderr, "intercept_stderr": fits[(r, main)].intercept_stderr,
           "n_models": fits[(r, main)].n_models} for r in oods]
    t3 += [{"source": "paper", "ood_set": k, "scaling": "logit", "A": a, "B": b, "r": np.nan,
            "r2": PAPER_TABLE2[k]["logit"], "stderr": np.nan, "intercept_stderr": np.nan,
            "n_models": np.nan} for k, (a, b) in PAPER_TABLE3.items()]
    all_fits = pd.DataFrame([{"ood_set": r, **fits[(r, s)].to_dict()} for r in oods for s in SCALINGS])
    rows = []
    ids = preds.sets["id"]
    id_lo, id_hi = clopper_pearson(ids.k, ids.n, settings["alpha"])
    for r in oods:
        f, s = fits[(r, main)], preds.sets[r]
        lo, hi = clopper_pearson(s.k, s.n, settings["alpha"])
        beta = baseline(ids.accuracy, f)
        rows.append(pd.DataFrame({
            "model": preds.models, "role": [roles.get(m, "testbed") for m in preds.models],
            "ood_set": r, "acc_id": ids.accuracy, "id_lo": id_lo, "id_hi": id_hi,
            "acc_ood": s.accuracy, "ood_lo": lo, "ood_hi": hi, "beta": beta,
            "er": s.accuracy - beta, "er_lo": lo - beta, "er_hi": hi - beta}))
    return {"table2": t2, "table3": pd.DataFrame(t3), "fits": all_fits,
            "model_er": pd.concat(rows, ignore_index=True)}


def write_fit(pred_path, outputs: Mapping[str, str], settings: Mapping, config=None) -> None:
    """Tables 2 and 3, every fit and every model's ER of one predictions set (testbed or imported)."""
    preds = read_predictions_h5(pred_path)
    t = fit_tables(preds, read_roles(pred_path), settings)
    prov = provenance(config, inputs=[pred_path])
    for key in ("table2", "table3", "fits", "model_er"):
        write_csv(t[key], outputs[key], prov)
    log.info("fit: %s", t["table3"][t["table3"]["source"] == "measured"].to_dict("records"))


def load_fits(fits_csv, scaling: str = "logit") -> dict[str, LinearFit]:
    """OOD role -> the fit in ``scaling`` from a ``fits.csv``."""
    df = read_csv(fits_csv)
    df = df[df["scaling"] == scaling]
    return {r["ood_set"]: LinearFit.from_dict({k: (None if pd.isna(v) else v) for k, v in r.items()
                                               if k != "ood_set"}) for r in df.to_dict("records")}


# ---------------------------------------------------------------------- fine-tuning trajectories

def write_run_accuracies(runs: Mapping[str, Sequence[tuple]], sets: Mapping[str, Mapping[str, str]],
                         out_csv, config=None) -> None:
    """Accuracy of every seed of every configuration at every eval point (long table: run,
    experiment, arch, seed, eval_index, step, epoch, set, acc).

    ``runs``: run -> [(experiment, arch, seed, logits path)]; ``sets``: run -> role -> eval set."""
    frames, inputs = [], []
    for run, members in runs.items():
        roles = dict(sets[run])
        for exp, arch, seed, path in members:
            acc = run_accuracies(path, list(roles.values()))
            inputs.append(path)
            for role, ev in roles.items():
                frames.append(pd.DataFrame({
                    "run": run, "experiment": exp, "arch": arch, "seed": int(seed),
                    "eval_index": np.arange(len(acc["steps"])), "step": acc["steps"],
                    "epoch": acc["epochs"], "set": role, "acc": acc[ev]}))
    write_csv(pd.concat(frames, ignore_index=True), out_csv, provenance(config, inputs=inputs))


def _seed_arrays(acc: pd.DataFrame, run: str, role: str):
    """Per seed (in seed order): acc_id, acc_ood, epochs, steps arrays of one run."""
    a = acc[acc["run"] == run]
    out = []
    for seed, g in a.groupby("seed", sort=True):
        w = g.pivot_table(index=["eval_index", "step", "epoch"], columns="set", values="acc").reset_index()
        if role not in w:
            return []
        w = w.sort_values("eval_index")
        out.append((int(seed), w["id"].to_numpy(), w[role].to_numpy(), w["epoch"].to_numpy(),
                    w["step"].to_numpy(), w["eval_index"].to_numpy()))
    return out


def er_tables(acc: pd.DataFrame, fits: Mapping[str, LinearFit], settings: Mapping,
              testbed_er: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Per-checkpoint ER, binned curves (ER, OOD accuracy and ER share of the gap, 100 bins over
    the pooled runs), max ER with both error bars, the sweeps, and the App. D no-gap reference and
    mixed classifier (spec §3.4–3.7). ``acc``: :func:`write_run_accuracies`' table;
    ``testbed_er``: ``model_er.csv`` (for the mixed classifier's two testbed models)."""
    points, binned, summary = [], [], []
    min_gap = settings["min_gap"]
    for run, spec in settings["runs"].items():
        for role, fit in fits.items():
            seeds = _seed_arrays(acc, run, role)
            if not seeds:
                continue
            frames = []
            for seed, x, y, ep, st, ei in seeds:
                beta = baseline(x, fit)
                frames.append(pd.DataFrame({
                    "run": run, "ood_set": role, "seed": seed, "eval_index": ei, "step": st,
                    "epoch": ep, "acc_id": x, "acc_ood": y, "beta": beta, "er": y - beta,
                    "gap": accuracy_gap(x, fit), "er_frac_gap": gap_fraction(x, y, fit, min_gap),
                    "used": (ep > 0) if settings["exclude_epoch0"] else np.ones(len(x), bool)}))
            pts = pd.concat(frames, ignore_index=True)
            points.append(pts)
            used = pts[pts["used"]]
            for metric in ("er", "acc_ood", "er_frac_gap"):
                b = binned_statistics(used["acc_id"], used[metric], bins=settings["bins"])
                b.insert(0, "metric", metric)
                b.insert(0, "ood_set", role)
                b.insert(0, "run", run)
                binned.append(b)
            _, summ = summarize_runs([s[1] for s in seeds], [s[2] for s in seeds], fit,
                                     epochs_runs=[s[3] for s in seeds], bins=settings["bins"],
                                     min_count=settings["min_count"],
                                     exclude_epoch0=settings["exclude_epoch0"])
            fg = binned[-1].dropna(subset=["mean"])
            rho = float(spearmanr(fg["centre"], fg["mean"])[0]) if len(fg) >= 3 else np.nan
            finals = pts.loc[pts.groupby("seed")["eval_index"].idxmax()]
            summary.append({
                "run": run, "ood_set": role, "label": spec.get("label", run),
                "experiment": spec["experiment"], "arch": spec["arch"], "init": spec["init"],
                "mode": spec["mode"],
                **{k: v for k, v in summ.items() if not isinstance(v, list)},
                "per_run_argmax_epoch": json.dumps(summ["per_run_argmax_epoch"]),
                "final_acc_id_mean": float(finals["acc_id"].mean()),
                "final_acc_ood_mean": float(finals["acc_ood"].mean()),
                "max_acc_id": float(used["acc_id"].max()) if len(used) else np.nan,
                "decay": summ["max_binned"] - summ["final_er_mean"],
                "frac_gap_spearman": rho})
    if not summary:
        raise ValueError("no fine-tuning run evaluates the ID set and an OOD set of the fit")
    max_er = pd.DataFrame(summary)
    sweeps = []
    for sweep, spec in settings["sweeps"].items():
        for order, (run, value) in enumerate(spec["runs"].items()):
            for r in max_er[max_er["run"] == run].to_dict("records"):
                sweeps.append({"sweep": sweep, "axis": spec.get("label", sweep), "order": order,
                               "value": value, "run": run, "ood_set": r["ood_set"],
                               "max_binned": r["max_binned"], "std_at_max_bin": r["std_at_max_bin"],
                               "max_std_all_bins": r["max_std_all_bins"], "n_runs": r["n_runs"],
                               "final_acc_id_mean": r["final_acc_id_mean"],
                               "final_er_mean": r["final_er_mean"], "final_er_std": r["final_er_std"]})
    sweeps = pd.DataFrame(sweeps, columns=["sweep", "axis", "order", "value", "run", "ood_set",
                                           "max_binned", "std_at_max_bin", "max_std_all_bins", "n_runs",
                                           "final_acc_id_mean", "final_er_mean", "final_er_std"])
    ref, mixed = [], []
    grid = np.linspace(0.005, 0.995, 199)
    for role, fit in fits.items():
        px, pg = gap_peak(fit)
        try:
            cx = crossover(fit)
        except ValueError:
            cx = np.nan
        ref.append(pd.DataFrame({"ood_set": role, "acc_id": grid, "beta": baseline(grid, fit),
                                 "nogap_er": accuracy_gap(grid, fit), "peak_acc": px, "peak_gap": pg,
                                 "crossover": cx}))
        if testbed_er is not None:
            t = testbed_er[(testbed_er["ood_set"] == role) & (testbed_er["role"] == "testbed")]
            lo, hi = t.loc[t["acc_id"].idxmin()], t.loc[t["acc_id"].idxmax()]
            m = mixed_classifier((lo["acc_id"], lo["acc_ood"]), (hi["acc_id"], hi["acc_ood"]), fit)
            m.insert(0, "model_hi", hi["model"])
            m.insert(0, "model_lo", lo["model"])
            m.insert(0, "ood_set", role)
            mixed.append(m)
    return {"points": pd.concat(points, ignore_index=True), "binned": pd.concat(binned, ignore_index=True),
            "max_er": max_er, "sweeps": sweeps, "gap_reference": pd.concat(ref, ignore_index=True),
            "mixed_classifier": pd.concat(mixed, ignore_index=True) if mixed else
            pd.DataFrame(columns=["ood_set", "model_lo", "model_hi", "alpha", "acc_id", "acc_ood", "er"])}


def write_er(acc_csv, fits_csv, model_er_csv, outputs: Mapping[str, str], settings: Mapping,
             config=None) -> None:
    """The ER tables of every fine-tuning configuration (see :func:`er_tables`)."""
    t = er_tables(read_csv(acc_csv), load_fits(fits_csv, settings["scaling"]), settings,
                  read_csv(model_er_csv))
    prov = provenance(config, inputs=[acc_csv, fits_csv, model_er_csv])
    for key in ("points", "binned", "max_er", "sweeps", "gap_reference", "mixed_classifier"):
        write_csv(t[key], outputs[key], prov)
    for r in t["max_er"].to_dict("records"):
        log.info("max ER %s on %s: %.2f pp (final %.2f pp)", r["run"], r["ood_set"],
                 100 * r["max_binned"], 100 * r["final_er_mean"])


# ----------------------------------------------------------------------------- special models

def special_checkpoints_table(acc: pd.DataFrame, fits: Mapping[str, LinearFit], runs: Sequence[str],
                              seed: int, main_role: str, settings: Mapping) -> pd.DataFrame:
    """The max-ER and converged checkpoints (spec §3.12) of seed ``seed`` of each run, selected
    on the main OOD role: model, run, seed, kind, eval_index, step, epoch, acc_id and per role
    acc_<role>, er_<role>."""
    rows = []
    for run in runs:
        a = acc[(acc["run"] == run) & (acc["seed"] == seed)]
        w = a.pivot_table(index=["eval_index", "step", "epoch"], columns="set", values="acc")
        w = w.reset_index().sort_values("eval_index")
        x, ep = w["id"].to_numpy(), w["epoch"].to_numpy()
        fit = fits[main_role]
        picks = {"max_er": max_er_checkpoint(x, w[main_role].to_numpy(), fit, ep, settings["exclude_epoch0"]),
                 "converged": converged_checkpoint(x, w[main_role].to_numpy(), fit, ep)}
        for kind, p in picks.items():
            i = p["index"]
            row = {"model": f"{run}@{kind}", "run": run, "seed": seed, "kind": kind,
                   "eval_index": int(w["eval_index"].iloc[i]), "step": int(w["step"].iloc[i]),
                   "epoch": float(ep[i]), "acc_id": float(x[i])}
            for role, f in fits.items():
                if role in w:
                    row[f"acc_{role}"] = float(w[role].iloc[i])
                    row[f"er_{role}"] = float(effective_robustness(x[i], w[role].iloc[i], f))
            rows.append(row)
    return pd.DataFrame(rows)


def write_special(acc_csv, fits_csv, logits: Mapping[str, str], sets: Mapping[str, str],
                  out_csv, out_h5, settings: Mapping, config=None) -> None:
    """Special models (max ER and converged checkpoints of the designated seed of each run in
    ``papers.robustness.special``) as a table and in the per-model format (role ``special``).
    ``logits``: run -> that seed's logits.h5; ``sets``: role -> eval set."""
    fits = load_fits(fits_csv, settings["scaling"])
    main_role = next(iter(settings["ood_sets"]))
    t = special_checkpoints_table(read_csv(acc_csv), fits, list(logits), settings["special_seed"],
                                  main_role, settings)
    specs = {r["model"]: (logits[r["run"]], int(r["eval_index"])) for r in t.to_dict("records")}
    preds = predictions_from_logits_h5(specs, dict(sets))
    inputs = [acc_csv, fits_csv, *logits.values()]
    _write_preds(preds, {m: "special" for m in preds.models}, out_h5, config, inputs)
    write_csv(t, out_csv, provenance(config, inputs=inputs))


# ---------------------------------------------------------------------------------- zero-shot

def zeroshot_tables(logits: Mapping[str, str], specs: Mapping[str, Mapping], sets: Mapping[str, str],
                    fits: Mapping[str, LinearFit]) -> tuple[pd.DataFrame, Predictions]:
    """Class-mapped zero-shot accuracy and ER of each configured pretrained model with max / mean
    / sum aggregation (spec §3.11, Fig 14), and the predictions of each model's configured
    aggregation (default max) as ``zeroshot:{name}`` models."""
    rows, preds = [], []
    for name, path in logits.items():
        spec = specs[name]
        labels, scores = {}, {}
        with h5py.File(path, "r") as f:
            for role, ev in sets.items():
                g = f[ev]
                labels[role] = (g["labels"][()].astype(np.int64), g["ids"][()])
                scores[role] = g["logits"][-1].astype(np.float64)
        chosen = {}
        class_map = load_class_map(spec["class_map"])
        for agg in AGGREGATIONS:
            pred = {r: class_mapped_scores(z, class_map, agg).argmax(-1) for r, z in scores.items()}
            acc = {r: float((pred[r] == labels[r][0]).mean()) for r in pred}
            row = {"model": f"zeroshot:{name}", "experiment": spec["experiment"], "arch": spec["arch"],
                   "agg": agg, "acc_id": acc["id"]}
            for role, f in fits.items():
                if role in acc:
                    row[f"acc_{role}"] = acc[role]
                    row[f"er_{role}"] = float(effective_robustness(acc["id"], acc[role], f))
            rows.append(row)
            if agg == spec.get("agg", "max"):
                chosen = pred
        preds.append(Predictions([f"zeroshot:{name}"],
                                 {r: EvalSet(labels[r][0], chosen[r][None], labels[r][1]) for r in chosen}))
    out = preds[0]
    for p in preds[1:]:
        out = out.merge(p)
    return pd.DataFrame(rows), out


def write_zeroshot(logits: Mapping[str, str], fits_csv, out_csv, out_h5, settings: Mapping,
                   config=None) -> None:
    """``zeroshot.csv`` and the zero-shot models in the per-model format (role ``zeroshot``)."""
    sets = {"id": settings["id_set"], **settings["ood_sets"]}
    table, preds = zeroshot_tables(logits, settings["zeroshot"], sets,
                                   load_fits(fits_csv, settings["scaling"]))
    inputs = [fits_csv, *logits.values()]
    _write_preds(preds, {m: "zeroshot" for m in preds.models}, out_h5, config, inputs)
    write_csv(table, out_csv, provenance(config, inputs=inputs))


# ------------------------------------------------------------------------- per-example analyses

def per_example_tables(preds: Predictions, roles: Mapping[str, str], settings: Mapping) -> dict[str, pd.DataFrame]:
    """Dominance matrix and pairs (§3.8), accuracy on the examples no (other) testbed model gets
    right (§3.6) with its examples, triplet probabilities (§3.9, the spec's uncertain reading) on
    the ID set and the main OOD role."""
    ids = preds.sets["id"]
    C = ids.correct
    names = preds.models
    role = [roles.get(m, "testbed") for m in names]
    tb = np.array([r == "testbed" for r in role])
    M, order = dominance_matrix(C)
    acc = C.mean(1)
    mat = pd.DataFrame(M[np.ix_(order, order)], columns=[names[i] for i in order])
    mat.insert(0, "acc_id", acc[order])
    mat.insert(0, "role", [role[i] for i in order])
    mat.insert(0, "model", [names[i] for i in order])
    pairs = dominance_pairs(C, names)
    rmap = dict(zip(names, role))
    pairs.insert(2, "role_lo", pairs["model_lo"].map(rmap))
    pairs.insert(3, "role_hi", pairs["model_hi"].map(rmap))
    pairs["special"] = [a if rmap[a] != "testbed" else (b if rmap[b] != "testbed" else "")
                        for a, b in zip(pairs["model_lo"], pairs["model_hi"])]
    num_classes = int(max(ids.labels.max(), ids.pred.max()) + 1)
    others = np.flatnonzero(~tb)
    uc = unique_correct(C[tb], C[others] if others.size else None, ids.labels, num_classes,
                        [names[i] for i in np.flatnonzero(tb)], [names[i] for i in others])
    uc["role"] = uc["model"].map(rmap)
    ex = [unique_correct_examples(C[tb], C[i], ids.labels, ids.ids, names[i]) for i in others]
    examples = pd.concat(ex, ignore_index=True) if ex else         pd.DataFrame(columns=["model", "index", "id", "label"])
    main_role = [s for s in preds.sets if s != "id"][0]
    trip = settings["triplets"]
    if len(names) >= 3:
        summ, per_model = triplet_cone(C, preds.sets[main_role].correct, names, rel_tol=trip["rel_tol"],
                                       min_prob=trip["min_prob"], reference=np.flatnonzero(tb),
                                       max_triplets=trip["max_triplets"], seed=trip["seed"])
        per_model["role"] = per_model["model"].map(rmap)
        summ = pd.DataFrame([{"ood_set": main_role, "reading": "uncertain (spec 001 §3.9)", **summ}])
    else:
        summ = pd.DataFrame([{"ood_set": main_role, "reading": "uncertain (spec 001 §3.9)",
                              "n_triplets": 0}])
        per_model = pd.DataFrame(columns=["model", "n_events", "frac_inside", "role"])
    return {"dominance_matrix": mat, "dominance_pairs": pairs, "unique_correct": uc,
            "unique_correct_examples": examples, "triplets": summ, "triplets_models": per_model}


def testbed_examples(preds: Predictions, roles: Mapping[str, str]) -> pd.DataFrame:
    """One row per ID example from the testbed models only (``{pset}/per_example.csv``, the
    atlas's paper-001 lens), with columns per OOD role whose examples are the ID examples; see
    :func:`~.unique_correct.testbed_example_table`."""
    tb = np.array([roles.get(m, "testbed") == "testbed" for m in preds.models])
    ids = preds.sets["id"]
    return testbed_example_table(ids.correct[tb], ids.ids, ids.labels,
                                 [m for m, t in zip(preds.models, tb) if t],
                                 {r: (preds.sets[r].correct[tb], preds.sets[r].ids) for r in _same_examples(preds)})


def _same_examples(preds: Predictions) -> list[str]:
    """OOD roles whose examples are the ID examples (same ids with the same labels: a transformed
    copy of the ID test set, like the default's corruptions); their per-example columns are
    comparable row by row."""
    ids = preds.sets["id"]
    ref = dict(zip(np.asarray(ids.ids).tolist(), ids.labels.tolist()))
    out = []
    for role, s in preds.sets.items():
        if role == "id" or s.n != ids.n:
            continue
        if dict(zip(np.asarray(s.ids).tolist(), s.labels.tolist())) == ref:
            out.append(role)
    return out


def write_per_example(pred_paths: Sequence, outputs: Mapping[str, str], settings: Mapping,
                      config=None) -> None:
    """The per-example analyses of one predictions set (testbed + special/zero-shot models, or an
    imported set); see :func:`per_example_tables`."""
    preds, roles = load_prediction_sets(pred_paths)
    t = per_example_tables(preds, roles, settings)
    prov = provenance(config, inputs=list(pred_paths))
    for key, path in outputs.items():
        write_csv(t[key], path, prov)


def write_testbed_examples(pred_path, out_csv, config=None) -> None:
    """``{pset}/per_example.csv`` of one predictions set; see :func:`testbed_examples`."""
    t = testbed_examples(read_predictions_h5(pred_path), read_roles(pred_path))
    write_csv(t, out_csv, provenance(config, inputs=[pred_path]))
    log.info("per-example table: %d ID examples, %d missed by every testbed model, %d right by exactly one",
             len(t), int(t["none_correct"].sum()), int(t["unique_correct"].sum()))


# ------------------------------------------------------------------------------- difficulty

def _align(ids_from: np.ndarray, ids_to: np.ndarray) -> np.ndarray:
    """Positions in ``ids_from`` of each id of ``ids_to`` (-1 where absent)."""
    pos = {int(v): i for i, v in enumerate(ids_from.tolist())}
    return np.array([pos.get(int(v), -1) for v in ids_to.tolist()], dtype=np.int64)


def cscore_from_runs(design_path, logits: Sequence[tuple[int, str]], eval_set: str,
                     statistic: str = "probability") -> pd.DataFrame:
    """C-score proxy (spec §3.10) of every pool example from held-out runs: the mean over the runs
    that did not train on it of the true-label probability (``statistic='probability'``) or the
    correctness (``'correct'``) at the run's final eval point. ``logits``: (seed index, path) of
    every run of the design's experiment (all archs). Columns: id, label, cscore, cscore_correct,
    n_heldout."""
    from pointwise.designs import read_design
    from scipy.special import softmax

    d = read_design(design_path)
    pool_ids = d["pool_ids"]
    trained, prob, corr = [], [], []
    for seed, path in logits:
        with h5py.File(path, "r") as f:
            g = f[eval_set]
            pos = _align(g["ids"][()], pool_ids)
            if (pos < 0).any():
                raise ValueError(f"{path}: eval set '{eval_set}' lacks {int((pos < 0).sum())} pool examples")
            z = g["logits"][-1].astype(np.float64)[pos]
            y = g["labels"][()].astype(np.int64)[pos]
        p = softmax(z, axis=-1)
        trained.append(d["train_mask"][seed])
        prob.append(p[np.arange(len(y)), y])
        corr.append((z.argmax(-1) == y).astype(np.float64))
    T = np.array(trained)
    if T.all():
        raise ValueError(f"{design_path}: every run trained on every example; a C-score needs held-out runs")
    score_p, n = holdout_cscore(T, np.array(prob))
    score_c, _ = holdout_cscore(T, np.array(corr))
    return pd.DataFrame({"id": pool_ids, "label": d["pool_labels"],
                         "cscore": score_p if statistic == "probability" else score_c,
                         "cscore_correct": score_c, "cscore_probability": score_p, "n_heldout": n})


def write_cscore(design_path, logits: Sequence[tuple[int, str]], outputs: Mapping[str, str],
                 settings: Mapping, config=None) -> None:
    """``cscore.csv``, the class-balanced easy/hard/random subsets and the phase-out schedules (per
    epoch, and with ``outputs['phaseout_examples']`` each example's last kept epoch)."""
    d = settings["difficulty"]
    sf = d["scores_from"]
    cs = cscore_from_runs(design_path, logits, sf.get("eval_set", "train"), d.get("statistic", "probability"))
    subsets = []
    for kind in ("easy", "hard", "random"):
        rows = difficulty_subset(cs["cscore"].to_numpy(), cs["label"].to_numpy(), d["per_class"], kind,
                                 seed=d.get("seed", 0))
        subsets.append(pd.DataFrame({"subset": kind, "id": cs["id"].to_numpy()[rows],
                                     "label": cs["label"].to_numpy()[rows],
                                     "cscore": cs["cscore"].to_numpy()[rows]}))
    ph = d.get("phaseout") or {}
    sched, members = [], []
    score = cs["cscore"].to_numpy()
    for n_final in ph.get("final", []):
        s = phaseout_schedule(score, cs["label"].to_numpy(), ph["epochs"], n_final)
        sched.append(pd.DataFrame({"n_final": n_final, "epoch": np.arange(len(s.sizes)), "size": s.sizes,
                                   "max_cscore_kept": [float(np.nanmax(score[s.kept(e)]))
                                                       for e in range(len(s.sizes))]}))
        members.append(pd.DataFrame({"n_final": n_final, "id": cs["id"], "label": cs["label"], "cscore": score,
                                     "last_epoch": s.last_epoch(len(cs))}))
    phase = pd.concat(sched, ignore_index=True) if sched else \
        pd.DataFrame(columns=["n_final", "epoch", "size", "max_cscore_kept"])
    examples = pd.concat(members, ignore_index=True) if members else \
        pd.DataFrame(columns=["n_final", "id", "label", "cscore", "last_epoch"])
    prov = provenance(config, inputs=[design_path, *[p for _, p in logits]])
    write_csv(cs, outputs["cscore"], prov)
    write_csv(pd.concat(subsets, ignore_index=True), outputs["subsets"], prov)
    write_csv(phase, outputs["phaseout"], prov)
    if "phaseout_examples" in outputs:
        write_csv(examples, outputs["phaseout_examples"], prov)


def write_difficulty_design(subsets_csv, data_path, experiment: str, exp_spec: Mapping, kind: str,
                            out_path, base_seed: int = 0, config=None) -> None:
    """The design of a difficulty experiment (C.9): every seed trains on the same class-balanced
    ``kind`` subset (easy / hard / random by the C-score proxy) of the experiment's pool. Same
    layout as :func:`pointwise.designs.build_design`; the run seeds follow the same rule."""
    from pointwise.data.store import read_dataset
    from pointwise.designs import write_design

    ds = read_dataset(data_path)
    pool_rows = ds.split_index(exp_spec.get("pool_split", "train"))
    sub = read_csv(subsets_csv)
    chosen = set(sub.loc[sub["subset"] == kind, "id"].astype(np.int64).tolist())
    in_sub = np.isin(ds.ids[pool_rows], np.fromiter(chosen, np.int64, len(chosen)))
    if in_sub.sum() != len(chosen):
        raise ValueError(f"difficulty design of {experiment}: {len(chosen) - int(in_sub.sum())} of the "
                         f"'{kind}' subset's ids are not in the pool of {ds.name}")
    n_runs = exp_spec["design"]["seeds"]
    mask = np.repeat(in_sub[None], n_runs, axis=0)
    write_design(out_path, mask, ds, pool_rows, experiment, base_seed,
                 {"design": {"kind": "difficulty_subset", "subset": kind, "size": int(in_sub.sum()),
                             "seeds": n_runs},
                  **provenance(config, seed=base_seed, inputs=[data_path, subsets_csv])})
    log.info("difficulty design of %s: the %d %s examples for %d runs", experiment, int(in_sub.sum()), kind, n_runs)


def phaseout_epoch_mask(examples: pd.DataFrame, phase: pd.DataFrame, n_final: int,
                        pool_ids: np.ndarray) -> np.ndarray:
    """bool [epochs, pool]: pool example i is trained on at epoch e iff its last kept epoch in the
    ``n_final`` schedule is >= e (``phaseout_examples.csv``); the per-epoch counts must be the
    sizes of ``phaseout.csv``."""
    ex = examples[examples["n_final"] == n_final]
    sizes = phase[phase["n_final"] == n_final].sort_values("epoch")["size"].to_numpy()
    if ex.empty or not len(sizes):
        raise ValueError(f"no phase-out schedule with n_final = {n_final} (configured: "
                         f"{sorted(set(phase['n_final']))})")
    last = pd.Series(ex["last_epoch"].to_numpy(), index=ex["id"].to_numpy())
    pos = np.full(len(pool_ids), -1, dtype=np.int64)
    known = np.isin(pool_ids, last.index.to_numpy())
    pos[known] = last.loc[pool_ids[known]].to_numpy()
    mask = pos[None, :] >= np.arange(len(sizes))[:, None]
    if mask.sum(1).tolist() != sizes.tolist():
        raise ValueError(f"phase-out schedule n_final = {n_final}: the pool holds {mask.sum(1).tolist()} "
                         f"examples per epoch, the schedule {sizes.tolist()}")
    return mask


def write_phaseout_design(examples_csv, phase_csv, data_path, experiment: str, exp_spec: Mapping,
                          n_final: int, out_path, base_seed: int = 0, config=None) -> None:
    """The design of a phase-out experiment (Fig 19): every seed starts on the whole pool and at
    epoch e trains on the examples the ``n_final`` schedule keeps (``epoch_mask``, read by the
    training engine). Same layout as :func:`pointwise.designs.build_design` plus the mask."""
    from pointwise.data.store import read_dataset
    from pointwise.designs import write_design
    from pointwise.io import atomic_path
    from pointwise.train.epochs import MASK_KEY

    ds = read_dataset(data_path)
    pool_rows = ds.split_index(exp_spec.get("pool_split", "train"))
    mask = phaseout_epoch_mask(read_csv(examples_csv), read_csv(phase_csv), n_final, ds.ids[pool_rows])
    n_runs = exp_spec["design"]["seeds"]
    with atomic_path(out_path) as tmp:
        write_design(tmp, np.ones((n_runs, len(pool_rows)), dtype=bool), ds, pool_rows, experiment, base_seed,
                     {"design": {"kind": "phaseout", "n_final": int(n_final), "epochs": int(len(mask)),
                                 "sizes": mask.sum(1).tolist(), "seeds": n_runs},
                      **provenance(config, seed=base_seed, inputs=[data_path, examples_csv, phase_csv])})
        with h5py.File(tmp, "a") as f:
            f.create_dataset(MASK_KEY, data=mask, compression="gzip", compression_opts=1)
    log.info("phase-out design of %s: %d runs, %d epochs of %s examples", experiment, n_runs, len(mask),
             mask.sum(1).tolist())

