"""Paper 003's analysis tables from score cubes (spec 003 §3.6-§3.11, §6.1): the tables behind
Figures 1-6. Pure functions build DataFrames from :class:`~pointwise.scores.pipeline.ScoreCube`
objects; one ``write_*`` function per workflow rule reads the files, calls them and writes the
tables with provenance.

| figure | function | tables |
|---|---|---|
| Fig 2 | :func:`variance_table` | ``fig2_variance_bins.csv`` |
| Fig 3 | :func:`stability_table` | ``fig3_rank_stability.csv`` (one row per score, n, repetition) |
| Fig 4 | :func:`correlation_tables` | ``fig4_corr_mean_mean.csv``, ``fig4_corr_mean_run_delta.csv``, ``fig4_corr_run_run_delta.csv`` |
| Fig 5 | :func:`pca_tables`, :func:`pca1_stability_table` | ``fig5_pca_loadings.csv``, ``fig5_pca_explained.csv``, ``examples.csv``, ``fig5_pca1_rank_stability.csv`` |
| Fig 6 | :func:`bias_tables` | ``bias_pvalues.h5``, ``fig6_by_score.csv``, ``fig6_by_pair.csv``, ``fig6_capacity.csv``, ``fig6_distributions.csv``, ``example_sensitivity.csv`` |
| Fig 1 | :func:`fingerprint_tables` | ``fig1_results.csv``, ``fig1_examples.csv`` |
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import h5py
import numpy as np
import pandas as pd

from pointwise.data.image_table import dataset_image_rows
from pointwise.io import atomic_path, read_csv, set_h5_attrs, write_csv
from pointwise.provenance import provenance
from pointwise.stats import (bonferroni_threshold, by_pair, by_score, capacity,
                             correlation_matrices, difficulty_pca, example_sensitivity,
                             fingerprint_table, pair_label, pairwise_pvalues, pc1_combiner,
                             pc1_weights, random_selections, rank_stability, variance_bins_table)

from .orientation import ENSEMBLE_SCORES, orientation_sign
from .pipeline import ScoreCube, fit_test_runs, read_cube

QUANTILES = np.linspace(0.0, 1.0, 101)


# ----------------------------------------------------------------------------- Figs 2-5 (base model)

def variance_table(cube: ScoreCube, bins: int = 50, band=(0.05, 0.95)) -> pd.DataFrame:
    """Fig 2 (spec §3.6): per score and difficulty bin the pooled per-run values' mean, median,
    ``band`` quantiles, between-run and between-example spread (difficulty orientation, easy
    bins first); ``sign`` turns a value back into raw units (raw = sign * value)."""
    n = cube.S.shape[1]
    df = variance_bins_table(cube.S, cube.names, n_bins=min(int(bins), n), band=tuple(band))
    sign = dict(zip(cube.names, orientation_sign(cube.names)))
    return df.assign(sign=df["score"].map(sign))


def stability_table(cube: ScoreCube, n_runs: Sequence[int], reps: int = 20, seed: int = 0,
                    ties: str = "average") -> pd.DataFrame:
    """Fig 3 (spec §3.7): median and 95th percentile of |rank change| and median-split
    disagreement between two disjoint sets of n runs, every score, n and repetition."""
    return rank_stability(cube.S, cube.names, n_runs=n_runs, reps=reps, seed=seed, ties=ties)


def ensemble_matrix(cube: ScoreCube, agr: pd.DataFrame, ret: pd.DataFrame) -> np.ndarray:
    """[N, 2] AGR and RET (difficulty orientation) aligned to the cube's examples."""
    cols = []
    for df, key in ((agr, "agr"), (ret, "ret")):
        s = df.set_index("id")[key]
        missing = np.setdiff1d(cube.ids, s.index.to_numpy())
        if missing.size:
            raise ValueError(f"{key} lacks {missing.size} of the scored examples")
        cols.append(s.loc[cube.ids].to_numpy(dtype=np.float64) * orientation_sign([key])[0])
    return np.stack(cols, axis=1)


def correlation_tables(cube: ScoreCube, ensemble: np.ndarray, loo: bool = False) -> dict[str, pd.DataFrame]:
    """Fig 4 (spec §3.8): the three 10x10 Spearman matrices (mean-mean, mean-run minus mean-mean,
    run-run minus mean-run) as tables with a leading ``score`` column (NaN: no runs)."""
    cm = correlation_matrices(cube.S, cube.names, ensemble, ENSEMBLE_SCORES, loo=loo)
    return {k: v.reset_index() for k, v in cm.frames().items()}


def pca_tables(cube: ScoreCube, ensemble: np.ndarray) -> dict[str, pd.DataFrame]:
    """Fig 5 left (spec §3.9): PCA of the quantile-normal mean scores (8 per-run means + AGR +
    RET). ``loadings``: score x PC1..PCK; ``explained``: component, variance, ratio, cumulative;
    ``examples``: id, label, the 10 mean scores (difficulty orientation) and ``pc1``, the
    example's projection on PC 1 (a single difficulty score)."""
    names = list(cube.names) + list(ENSEMBLE_SCORES)
    means = np.concatenate([cube.S.mean(axis=0), ensemble], axis=1)
    res = difficulty_pca(means)
    k = res.loadings.shape[1]
    pcs = [f"PC{j + 1}" for j in range(k)]
    loadings = pd.DataFrame(res.loadings, columns=pcs).assign(score=names)[["score"] + pcs]
    explained = pd.DataFrame({"component": pcs, "variance": res.explained_variance,
                              "ratio": res.explained_ratio,
                              "cumulative": np.cumsum(res.explained_ratio)})
    examples = pd.DataFrame({"id": cube.ids, "label": cube.labels,
                             **{n: means[:, j] for j, n in enumerate(names)},
                             "pc1": res.scores[:, 0]})
    return {"loadings": loadings, "explained": explained, "examples": examples}


def pca1_stability_table(cube: ScoreCube, n_runs: Sequence[int], reps: int = 20, seed: int = 0,
                         ties: str = "average") -> pd.DataFrame:
    """Fig 5 right (spec §3.9 step 7, A8): the Fig 3 statistics of PCA 1 as a score, w1 fitted on
    the quantile-normal means of the 8 per-run scores; same run subsets as Fig 3 (same seed)."""
    w1 = pc1_weights(cube.S.mean(axis=0))
    return rank_stability(cube.S, n_runs=n_runs, reps=reps, seed=seed, ties=ties,
                          combine=pc1_combiner(w1), combine_name="pca1")


# ----------------------------------------------------------------------------- Fig 6

def _check_same_examples(cubes: Mapping[str, ScoreCube]) -> np.ndarray:
    ids = next(iter(cubes.values())).ids
    for name, c in cubes.items():
        if not np.array_equal(c.ids, ids):
            raise ValueError(f"model '{name}' scores different examples")
        if list(c.names) != list(next(iter(cubes.values())).names):
            raise ValueError(f"model '{name}' has different score names")
    return ids


def selection_cubes(cubes: Mapping[str, ScoreCube], fit_runs: int) -> dict[str, np.ndarray]:
    """The selection runs (first ``fit_runs``) of every model, S [fit_runs, N, K]."""
    return {m: c.S[fit_test_runs(len(c.S), fit_runs, False)[0]] for m, c in cubes.items()}


def bias_tables(cubes: Mapping[str, ScoreCube], fit_runs: int, n_params: Mapping[str, int],
                families: Mapping[str, str], difficulty=None, k: int = 8, equal_var: bool = False,
                floor: float | None = 1e-15, alpha: float = 0.01, m: str = "n") -> dict:
    """Fig 6 (spec §3.10): per-example t-tests between every pair of models on their selection
    runs. Returns ``pvalues`` (the :func:`pointwise.stats.pairwise_pvalues` dict plus ``ids``,
    ``scores``, ``threshold``), and the tables ``by_score``, ``by_pair`` (with the families and
    whether the pair crosses families), ``capacity``, ``distributions`` (101 quantiles over
    examples of mean -ln P per score and per pair) and ``sensitivity`` (lambda, top/bottom k;
    ties by lower ``difficulty``)."""
    ids = _check_same_examples(cubes)
    names = list(next(iter(cubes.values())).names)
    labels = next(iter(cubes.values())).labels
    pv = pairwise_pvalues(selection_cubes(cubes, fit_runs), equal_var=equal_var, floor=floor)
    nl = pv["neglogp"]
    n_tests = {"n": nl.shape[2], "all": nl.size}[m]
    thr = bonferroni_threshold(alpha, n_tests)
    pairs = pv["pairs"]
    score_df = by_score(nl, names, thr).assign(threshold=thr)
    pair_df = by_pair(nl, pairs, thr).assign(
        family_a=[families[a] for a, _ in pairs], family_b=[families[b] for _, b in pairs],
        threshold=thr)
    pair_df["cross_family"] = pair_df["family_a"] != pair_df["family_b"]
    cap, _ = capacity(nl, pairs, n_params)
    cap["cross_family"] = pair_df["cross_family"].to_numpy()
    rows = []
    for j, s in enumerate(names):
        rows += [("score", s, q, v) for q, v in zip(QUANTILES, np.quantile(nl[:, j].mean(axis=0), QUANTILES))]
    for p, pair in enumerate(pairs):
        rows += [("pair", pair_label(pair), q, v) for q, v in zip(QUANTILES, np.quantile(nl[p].mean(axis=0), QUANTILES))]
    dist = pd.DataFrame(rows, columns=["group", "name", "quantile", "neglogp"]).assign(threshold=thr)
    sens = example_sensitivity(nl, difficulty=difficulty, k=k)
    sens.insert(1, "id", ids)
    sens.insert(2, "label", labels)
    if difficulty is not None:
        sens["difficulty"] = np.asarray(difficulty, dtype=np.float64)
    pv.update({"ids": ids, "scores": names, "threshold": thr})
    return {"pvalues": pv, "by_score": score_df, "by_pair": pair_df, "capacity": cap,
            "distributions": dist, "sensitivity": sens}


def write_pvalues(pv: Mapping, path, runs_used: Mapping, prov: Mapping | None = None) -> None:
    """``bias_pvalues.h5``: ``neglogp``, ``logp``, ``t`` [pairs, scores, examples], ``pairs``,
    ``scores``, ``ids``; attributes ``threshold`` and ``runs_used`` (model -> run positions)."""
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            for key in ("neglogp", "logp", "t"):
                f.create_dataset(key, data=pv[key], compression="gzip", compression_opts=1)
            f.create_dataset("pairs", data=np.array([list(p) for p in pv["pairs"]], dtype="S"))
            f.create_dataset("scores", data=np.array(pv["scores"], dtype="S"))
            f.create_dataset("ids", data=pv["ids"])
            f.attrs["threshold"] = float(pv["threshold"])
            f.attrs["layout"] = "[pair, score, example]; neglogp = -ln P (natural log)"
            set_h5_attrs(f, {"runs_used": {k: list(map(int, v)) for k, v in runs_used.items()},
                             **(prov or {})})


# ----------------------------------------------------------------------------- Fig 1

def fingerprint_tables(cubes: Mapping[str, ScoreCube], pair: Sequence[str], fit_runs: int,
                       selection: pd.DataFrame, difficulty=None, k: int = 8, n_random: int = 20,
                       seed: int = 0, equal_var: bool = False, floor: float | None = 1e-15
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fig 1 (spec §3.11, A9): classify the runs of ``pair`` = (A, B) from the scores of k
    examples, one unregularised logistic regression per score, fit on the first ``fit_runs`` runs
    of each and tested on their remaining runs. Selections: top-k / bottom-k by lambda and
    ``n_random`` random draws. Two sources of lambda: ``select_runs`` (the Fig 6 table
    ``selection``, selection runs only: leak-free) and ``all_runs`` (every run of every model,
    the held-out runs included). Returns (results, the all-runs sensitivity table)."""
    _check_same_examples(cubes)
    a, b = pair
    ca, cb = cubes[a], cubes[b]
    fit_a, test_a = fit_test_runs(len(ca.S), fit_runs, True)
    fit_b, test_b = fit_test_runs(len(cb.S), fit_runs, True)
    n = ca.S.shape[1]
    pv_all = pairwise_pvalues({m: c.S for m, c in cubes.items()}, equal_var=equal_var, floor=floor)
    sens_all = example_sensitivity(pv_all["neglogp"], difficulty=difficulty, k=k)
    rand = random_selections(n, k, n_random, seed)
    frames = []
    for source, sens in (("select_runs", selection), ("all_runs", sens_all)):
        sel = {"top": np.flatnonzero(sens["is_top"].to_numpy()),
               "bottom": np.flatnonzero(sens["is_bottom"].to_numpy()), "random": rand}
        t = fingerprint_table(ca.S, cb.S, fit_a, test_a, fit_b, test_b, sel, ca.names)
        frames.append(t.assign(selection_source=source))
    return pd.concat(frames, ignore_index=True), sens_all


def fig1_examples(selection: pd.DataFrame, data: str) -> pd.DataFrame:
    """The top-k and bottom-k examples of ``selection`` (Fig 1 left) with lambda, rank, label,
    difficulty and their pixels."""
    top = selection[selection["is_top"]].sort_values("rank").assign(group="top")
    bottom = selection[selection["is_bottom"]].sort_values(["lambda", "id"]).assign(group="bottom")
    sel = pd.concat([top, bottom], ignore_index=True)
    cols = ["group", "id", "label", "lambda", "rank"] + (["difficulty"] if "difficulty" in sel else [])
    return sel[cols].merge(dataset_image_rows(data, sel["id"].to_numpy()), on="id", how="left")


# ----------------------------------------------------------------------------- file-level calls

def _prov(config, inputs, **extra):
    return provenance(config, inputs=[str(p) for p in inputs], **extra)


def write_variance(cube_path: str, out: str, s: Mapping, config: Mapping | None = None) -> None:
    write_csv(variance_table(read_cube(cube_path), s["bins"], s["band"]), out, _prov(config, [cube_path]))


def write_stability(cube_path: str, out: str, s: Mapping, config: Mapping | None = None) -> None:
    df = stability_table(read_cube(cube_path), s["n_runs"], s["reps"], s["seed"], s["ties"])
    write_csv(df, out, _prov(config, [cube_path], seed=s["seed"]))


def write_correlations(cube_path: str, agr: str, ret: str, outs: Mapping[str, str], s: Mapping,
                       config: Mapping | None = None) -> None:
    """``outs``: mean_mean, mean_run_delta, run_run_delta -> CSV paths."""
    cube = read_cube(cube_path)
    tables = correlation_tables(cube, ensemble_matrix(cube, read_csv(agr), read_csv(ret)), s["loo"])
    prov = _prov(config, [cube_path, agr, ret], loo=bool(s["loo"]))
    for key, path in outs.items():
        write_csv(tables[key], path, prov)


def write_pca(cube_path: str, agr: str, ret: str, outs: Mapping[str, str],
              config: Mapping | None = None) -> None:
    """``outs``: loadings, explained, examples -> CSV paths."""
    cube = read_cube(cube_path)
    tables = pca_tables(cube, ensemble_matrix(cube, read_csv(agr), read_csv(ret)))
    prov = _prov(config, [cube_path, agr, ret])
    for key, path in outs.items():
        write_csv(tables[key], path, prov)


def write_pca1_stability(cube_path: str, out: str, s: Mapping, config: Mapping | None = None) -> None:
    df = pca1_stability_table(read_cube(cube_path), s["n_runs"], s["reps"], s["seed"], s["ties"])
    write_csv(df, out, _prov(config, [cube_path], seed=s["seed"]))


def _difficulty(examples: str, ids: np.ndarray) -> np.ndarray:
    ex = read_csv(examples).set_index("id")
    return ex.loc[ids, "pc1"].to_numpy(dtype=np.float64)


def write_bias(cubes: Mapping[str, str], params: str, examples: str, outs: Mapping[str, str],
               s: Mapping, config: Mapping | None = None) -> None:
    """Fig 6 tables. ``cubes``: model -> per_run.h5 (in the models' configured order);
    ``params``: the parameter-count table; ``examples``: the base model's examples table (PC 1
    breaks sensitivity ties); ``outs``: pvalues (h5), by_score, by_pair, capacity,
    distributions, sensitivity."""
    loaded = {m: read_cube(p) for m, p in cubes.items()}
    pc = read_csv(params).set_index("model")
    ids = next(iter(loaded.values())).ids
    res = bias_tables(loaded, s["fit_runs"], pc["n_params"].to_dict(), pc["family"].to_dict(),
                      difficulty=_difficulty(examples, ids), k=s["k"], equal_var=s["equal_var"],
                      floor=s["p_floor"], alpha=s["bonferroni"]["alpha"], m=s["bonferroni"]["m"])
    prov = _prov(config, list(cubes.values()) + [params, examples], fit_runs=s["fit_runs"])
    runs_used = {m: list(range(s["fit_runs"])) for m in loaded}
    write_pvalues(res["pvalues"], outs["pvalues"], runs_used, prov)
    for key in ("by_score", "by_pair", "capacity", "distributions", "sensitivity"):
        write_csv(res[key], outs[key], prov)


def write_fingerprint(cubes: Mapping[str, str], sensitivity: str, examples: str, data: str,
                      outs: Mapping[str, str], s: Mapping, config: Mapping | None = None) -> None:
    """Fig 1 tables. ``outs``: results, examples -> CSV paths."""
    loaded = {m: read_cube(p) for m, p in cubes.items()}
    ids = next(iter(loaded.values())).ids
    sel = read_csv(sensitivity)
    if not np.array_equal(sel["id"].to_numpy(), ids):
        raise ValueError(f"{sensitivity} does not list the scored examples in order")
    results, _ = fingerprint_tables(loaded, s["fingerprint"], s["fit_runs"], sel,
                                    difficulty=_difficulty(examples, ids), k=s["k"],
                                    n_random=s["n_random"], seed=s["seed"],
                                    equal_var=s["equal_var"], floor=s["p_floor"])
    prov = _prov(config, list(cubes.values()) + [sensitivity, examples, data], seed=s["seed"],
                 fit_runs=s["fit_runs"], pair=list(s["fingerprint"]))
    write_csv(results, outs["results"], prov)
    write_csv(fig1_examples(sel, data), outs["examples"], prov)
