"""From the training engine's files to paper 003's score tables (spec 003 §3.1-§3.3, §6.1).

The workflow's rules call one function of this module each:

| function | reads | writes |
|---|---|---|
| :func:`write_block_scores` | one block's ``logits.h5``, ``train_stats.h5``, ``model.pt``, ``snapshots.pt`` + the scored dataset | one per-run score table per seed (id, label, the 8 raw scores) |
| :func:`write_score_cube` | the per-run tables of one model | ``per_run.h5`` (cube S[r, i, s], raw and difficulty orientation) and the mean table |
| :func:`write_agr` | the AGR ensemble's ``logits.h5`` | ENSEMBLE AGREEMENT per example |
| :func:`write_ret` | the fine-tuned runs' and their parents' ``logits.h5`` | HOLDOUT RETRAINING per example |
| :func:`write_param_counts` | one ``model.pt`` per model | trainable-parameter counts (Fig 6 right) |
| :func:`write_orientation` | -- | the orientation table (higher = harder) |

``papers.scores`` in the config holds the analysis settings; :func:`settings` fills its defaults.
What one run must record (spec §3.1) maps onto the engine's recipe keys: per-epoch eval of the
un-augmented training set (``eval: {per_epoch: 1, at_start: false}``, eval set ``train``), the
minibatch-presentation records (``records: eval_forward``) and the checkpoints of GraNd/EL2N and
VoG (``snapshots: {epochs: [...]}``; the final epoch is ``model.pt``).
"""
from __future__ import annotations

import copy
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import h5py
import numpy as np
import pandas as pd
import torch

from pointwise.io import atomic_path, read_csv, read_csv_provenance, set_h5_attrs, write_csv
from pointwise.provenance import provenance

from .agreement import ensemble_agreement
from .checkpoint import model_from_checkpoint
from .grand import grand_el2n
from .orientation import PER_RUN_SCORES, SCORES, orientation_sign, orientation_table
from .outputs import training_eval_rows
from .per_run import grad_epoch as paper_grad_epoch
from .per_run import per_run_scores, stack_runs
from .retraining import holdout_retraining
from .vog import vog

log = logging.getLogger("pointwise.scores")

# Defaults of ``papers.scores`` (spec 003 §3, §6; every ambiguity a named value).
DEFAULTS: dict = {
    "eval_set": "train",              # the logits.h5 eval set holding the scored (training) examples
    "grad_epoch": "auto",             # GraNd/EL2N epoch G; auto = round(E * 20/160)
    "vog_epochs": "all",              # "all" checkpoints at epoch >= 1 (snapshots + final), or a list
    "vog_target": "prob",             # prob (the code's "classvog") or loss ("lossvog")
    "grad_dtype": "float64",          # GraNd precision (the code computes in float64)
    "device": "auto",                 # where the gradient scores are computed
    "forget_never_learned": "toneva",  # A4: zero | toneva
    "extras": False,                  # also write the §3.4 extras into the per-run tables
    "bins": 50,                       # Fig 2: N/50 examples per bin
    "band": [0.05, 0.95],             # Fig 2: the 90% interval
    "n_runs": [1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 18, 20],   # Fig 3 (n <= R/2 kept)
    "reps": 20,                       # Fig 3 repetitions T
    "ties": "average",                # A6: average | random
    "loo": False,                     # A7: leave-one-out mean in Fig 4
    "equal_var": False,               # A10: Welch (false) or Student (true)
    "p_floor": 1.0e-15,               # A10: P floor
    "bonferroni": {"alpha": 0.01, "m": "n"},   # m: n (tests per score and pair) | all (N*pairs*scores)
    "k": 8,                           # Fig 1: top/bottom/random k examples
    "n_random": 20,                   # Fig 1: random-k draws
    "seed": 0,                        # seeds of the Fig 3 permutations and random-k draws
    "claim_n": 5,                     # Q2/Q7 are read at this n
    "score_runtime_minutes": 120,     # resources of one per-run scoring job (one training block)
    "score_mem_mb": 16000,
}
REQUIRED = ("models", "base", "fingerprint", "fit_runs", "agr", "ret", "compare_pairs")


def settings(config: Mapping) -> dict | None:
    """``papers.scores`` with :data:`DEFAULTS` filled in (None when the config has no such
    section). Checks that every model, the base, the fingerprint pair and the compared pairs refer
    to configured experiments/archs or models; ValueError naming the key otherwise."""
    raw = (config.get("papers") or {}).get("scores")
    if raw is None:
        return None
    s = {**copy.deepcopy(DEFAULTS), **copy.deepcopy(dict(raw))}
    s["bonferroni"] = {**DEFAULTS["bonferroni"], **(raw.get("bonferroni") or {})}
    missing = [k for k in REQUIRED if k not in s]
    if missing:
        raise ValueError(f"config key 'papers.scores.{missing[0]}': required")
    exps = config["experiments"]

    def check_run(key, exp, arch):
        if exp not in exps:
            raise ValueError(f"config key 'papers.scores.{key}': unknown experiment '{exp}'")
        if arch not in exps[exp]["archs"]:
            raise ValueError(f"config key 'papers.scores.{key}': experiment '{exp}' has no arch '{arch}'")

    for name, m in s["models"].items():
        check_run(f"models.{name}", m["experiment"], m["arch"])
    models = list(s["models"])
    for key, names in (("base", [s["base"]]), ("fingerprint", s["fingerprint"]),
                       ("compare_pairs.large", s["compare_pairs"]["large"]),
                       ("compare_pairs.small", s["compare_pairs"]["small"])):
        for n in names:
            if n not in models:
                raise ValueError(f"config key 'papers.scores.{key}': '{n}' is not one of the models {models}")
    check_run("agr", s["agr"]["experiment"], s["agr"]["arch"])
    for i, exp in enumerate(s["ret"]["experiments"]):
        if exp not in exps:
            raise ValueError(f"config key 'papers.scores.ret.experiments.{i}': unknown experiment '{exp}'")
    return s


def ret_runs(config: Mapping, s: Mapping) -> list[dict]:
    """The RET substitute's (child, parent) runs: every seed of each fine-tuning experiment in
    ``papers.scores.ret.experiments`` (arch ``ret.arch``), whose parent is its recipe's
    ``init_from`` run. Returns [{experiment, arch, seed, parent_experiment, parent_arch,
    parent_seed}]."""
    import pointwise.config as pwconfig

    arch = s["ret"]["arch"]
    out = []
    for exp in s["ret"]["experiments"]:
        if arch not in config["experiments"][exp]["archs"]:
            raise ValueError(f"config key 'papers.scores.ret.arch': experiment '{exp}' has no arch '{arch}'")
        init = pwconfig.recipe(config, exp, arch).get("init_from")
        if not init:
            raise ValueError(f"config key 'papers.scores.ret.experiments': '{exp}' does not start from "
                             "a parent run (its recipe needs init_from)")
        for seed in range(pwconfig.n_seeds(config, exp)):
            out.append({"experiment": exp, "arch": arch, "seed": seed,
                        "parent_experiment": init["experiment"], "parent_arch": init["arch"],
                        "parent_seed": int(init["seed"])})
    return out


def fit_test_runs(n_runs: int, fit_runs: int, held_out: bool) -> tuple[np.ndarray, np.ndarray]:
    """(fitting/selection runs, held-out runs) as run positions: the first ``fit_runs`` runs
    select and fit (spec §3.10: "runs 1-20"); with ``held_out`` the remaining runs are the test
    runs of Fig 1 (at least one needed). ValueError when a model has too few runs."""
    if n_runs < fit_runs:
        raise ValueError(f"a model has {n_runs} runs, fewer than papers.scores.fit_runs = {fit_runs}")
    fit = np.arange(fit_runs)
    test = np.arange(fit_runs, n_runs)
    if held_out and not len(test):
        raise ValueError(f"the fingerprint models need runs beyond fit_runs = {fit_runs} to test on")
    return fit, test


# ----------------------------------------------------------------------------- one run

def _device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def complete_presentations(correct, step) -> tuple[np.ndarray, np.ndarray]:
    """The leading rows of ``train_stats.h5``'s [epoch, example] records in which every example
    was presented (a final partial epoch, when the step count is not a whole number of epochs, is
    dropped). ValueError when no row is complete or a complete row follows an incomplete one."""
    step = np.asarray(step)
    full = (step >= 0).all(axis=1)
    n = int(np.argmin(full)) if not full.all() else len(full)
    if n == 0:
        raise ValueError("no complete presentation epoch in the records (records: none?)")
    if full[n:].any():
        raise ValueError("a complete presentation epoch follows an incomplete one")
    return np.asarray(correct)[:n], step[:n]


def checkpoint_at(checkpoints: Sequence[tuple[float, Mapping]], epoch: float, tol: float):
    """The (epoch, state_dict) of ``checkpoints`` nearest ``epoch``, KeyError unless within
    ``tol`` epochs (the engine snaps requested epochs to the nearest step)."""
    have = [e for e, _ in checkpoints]
    i = int(np.argmin(np.abs(np.asarray(have) - epoch))) if have else -1
    if i < 0 or abs(have[i] - epoch) > tol:
        raise KeyError(f"no checkpoint at epoch {epoch} (have {[round(e, 4) for e in have]}); add it "
                       "to the recipe's snapshots")
    return checkpoints[i]


def run_scores(data: str, logits: str, stats: str, model: str, snapshots: str | None = None, *,
               eval_set: str = "train", grad_epoch="auto", vog_epochs="all",
               vog_target: str = "prob", grad_dtype: str = "float64", device: str = "auto",
               forget_never_learned: str = "toneva", extras: bool = False
               ) -> tuple[pd.DataFrame, dict]:
    """One run's per-run scores (spec §3.2) from its files: (table, info).

    The table has one row per example of eval set ``eval_set`` (the scored training examples):
    ``id``, ``label`` and the 8 raw scores of :data:`PER_RUN_SCORES` (plus the §3.4 extras with
    ``extras``). LOSS, ACCURACY, AUM average the eval points after epochs 1..E; FORGETTING and
    CONSISTENTLY LEARNED read the complete presentation epochs of ``train_stats.h5``; GraNd and
    EL2N come from the checkpoint at epoch G (``grad_epoch``: int or auto = round(E*20/160));
    VoG from the checkpoints at ``vog_epochs`` ("all" = every snapshot at epoch >= 1 and the
    final checkpoint). ``info`` records what was used (G, VoG epochs, presentations, ...)."""
    with h5py.File(logits, "r") as f:
        if eval_set not in f:
            raise KeyError(f"{logits} has no eval set '{eval_set}' (has {[k for k in f if isinstance(f[k], h5py.Group)]})")
        g = f[eval_set]
        ids = g["ids"][()]
        labels = g["labels"][()].astype(np.int64)
        rows = g["rows"][()]
        ev_epochs, ev_steps = f["epochs"][()], f["steps"][()]
        eval_rows = training_eval_rows(ev_epochs)
        z = g["logits"][()]                               # [K, N, C] fp16, small enough per run
        seed_index = int(f.attrs["seed_index"]) if "seed_index" in f.attrs else -1
    final_epoch = float(ev_epochs[-1])
    epoch_per_step = final_epoch / max(int(ev_steps[-1]), 1)
    tol = 0.5 * epoch_per_step + 1e-9

    with h5py.File(stats, "r") as f:
        mode = f.attrs.get("records", "eval_forward")
        if mode == "none":
            raise ValueError(f"{stats}: the recipe recorded no presentations (records: none)")
        s_ids = f["ids"][()]
        s_labels = f["labels"][()]
        correct, step = complete_presentations(f["correct"][()], f["step"][()])
    order = np.argsort(s_ids, kind="stable")
    pos = order[np.clip(np.searchsorted(s_ids, ids, sorter=order), 0, len(s_ids) - 1)]
    if not np.array_equal(s_ids[pos], ids):
        raise ValueError(f"{stats}: {int((s_ids[pos] != ids).sum())} scored examples were not trained on")
    if not np.array_equal(s_labels[pos], labels):
        raise ValueError(f"{stats}: training labels differ from the eval set's labels")
    correct = correct[:, pos]

    ckpt = torch.load(model, map_location="cpu", weights_only=False)
    net, final_state, pre = model_from_checkpoint(ckpt)
    checkpoints = []
    if snapshots:
        snap = torch.load(snapshots, map_location="cpu", weights_only=False)
        checkpoints = [(float(e), sd) for e, sd in zip(snap["epochs"], snap["state_dicts"])]
    if not any(abs(e - final_epoch) <= tol for e, _ in checkpoints):
        checkpoints.append((final_epoch, final_state))
    checkpoints.sort(key=lambda c: c[0])

    n_epochs = ckpt.get("recipe", {}).get("epochs", round(final_epoch))
    G = paper_grad_epoch(int(round(n_epochs))) if grad_epoch == "auto" else float(grad_epoch)
    g_epoch, g_state = checkpoint_at(checkpoints, G, tol)
    if vog_epochs == "all":
        vog_ckpts = [c for c in checkpoints if c[0] >= 1 - tol]
    else:
        vog_ckpts = [checkpoint_at(checkpoints, float(e), tol) for e in vog_epochs]
    if len(vog_ckpts) < 2:
        raise ValueError(f"VoG needs >= 2 checkpoints, have epochs {[c[0] for c in vog_ckpts]}")

    from pointwise.data.store import read_dataset
    ds = read_dataset(data)
    if not np.array_equal(ds.ids[rows], ids):
        raise ValueError(f"{data} does not hold the scored examples of {logits} at their rows")
    dev = _device(device)
    x = pre(torch.from_numpy(ds.images[rows]))
    y = torch.from_numpy(labels)
    dtype = {"float64": torch.float64, "float32": torch.float32}[grad_dtype]
    gr, e2 = grand_el2n(net, g_state, x, y, dtype=dtype, device=dev)
    v = vog(net, [sd for _, sd in vog_ckpts], x, y, target=vog_target, device=dev)
    scores = per_run_scores(z, labels, correct, grand20=gr, el2n20=e2, vog=v, rows=eval_rows,
                            forget_never_learned=forget_never_learned, extras=extras)
    table = pd.DataFrame({"id": ids, "label": labels, **scores})
    never = int((~correct.astype(bool).any(axis=0)).sum())
    info = {"seed_index": seed_index, "grad_epoch": round(g_epoch, 6),
            "vog_epochs": [round(e, 6) for e, _ in vog_ckpts], "vog_target": vog_target,
            "eval_points": int(len(eval_rows)), "presentations": int(correct.shape[0]),
            "records": str(mode), "never_learned": never,
            "forget_never_learned": forget_never_learned, "grad_dtype": grad_dtype}
    log.info("run %s: G = %.3f, VoG over %d checkpoints, %d presentations, %d never learned",
             seed_index, g_epoch, len(vog_ckpts), correct.shape[0], never)
    return table, info


def write_block_scores(data: str, logits: Sequence[str], stats: Sequence[str], models: Sequence[str],
                       snapshots: Sequence[str], outputs: Sequence[str], s: Mapping,
                       config: Mapping | None = None, threads: int | None = None) -> None:
    """:func:`run_scores` for every member of a training block; one CSV per member (with its
    provenance and the run's ``info``). ``threads``: torch CPU threads."""
    if threads:
        torch.set_num_threads(int(threads))
    if not (len(logits) == len(stats) == len(models) == len(snapshots) == len(outputs)):
        raise ValueError("one logits, stats, model, snapshots and output path per member")
    for lg, st, md, sn, out in zip(logits, stats, models, snapshots, outputs):
        table, info = run_scores(data, lg, st, md, sn, eval_set=s["eval_set"],
                                 grad_epoch=s["grad_epoch"], vog_epochs=s["vog_epochs"],
                                 vog_target=s["vog_target"], grad_dtype=s["grad_dtype"],
                                 device=s["device"], forget_never_learned=s["forget_never_learned"],
                                 extras=s["extras"])
        write_csv(table, out, provenance(config, seed=info["seed_index"],
                                         inputs=[data, lg, st, md, sn], **info))


# ----------------------------------------------------------------------------- score cubes

@dataclass
class ScoreCube:
    """The per-run scores of one model: ``S`` [R, N, K] in difficulty orientation, ``S_raw`` as
    computed, score ``names``, example ``ids`` and ``labels``, run ``seeds`` (seed indices)."""
    S: np.ndarray
    S_raw: np.ndarray
    names: list[str]
    ids: np.ndarray
    labels: np.ndarray
    seeds: np.ndarray

    def means(self) -> pd.DataFrame:
        """Per-example means over runs, difficulty orientation: id, label, one column per score."""
        return pd.DataFrame({"id": self.ids, "label": self.labels,
                             **{n: self.S[:, :, j].mean(axis=0) for j, n in enumerate(self.names)}})


def stack_tables(tables: Sequence[pd.DataFrame], names: Sequence[str] = PER_RUN_SCORES,
                 seeds: Sequence[int] | None = None) -> ScoreCube:
    """Per-run tables (same examples in the same order) -> :class:`ScoreCube`."""
    if not tables:
        raise ValueError("no runs to stack")
    ids = tables[0]["id"].to_numpy()
    for t in tables[1:]:
        if not np.array_equal(t["id"].to_numpy(), ids):
            raise ValueError("per-run tables disagree on the scored examples")
    raw, S = stack_runs([{n: t[n].to_numpy() for n in names} for t in tables], names)
    seeds = np.arange(len(tables)) if seeds is None else np.asarray(seeds, dtype=np.int64)
    return ScoreCube(S, raw, list(names), ids, tables[0]["label"].to_numpy(), seeds)


def write_cube(cube: ScoreCube, path, prov: Mapping | None = None) -> None:
    """``per_run.h5``: ``S`` [R, N, K] (difficulty orientation), ``S_raw``, ``score_names``,
    ``orientation_sign``, ``ids``, ``labels``, ``seeds``."""
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            f.create_dataset("S", data=cube.S)
            f.create_dataset("S_raw", data=cube.S_raw)
            f.create_dataset("score_names", data=np.array(cube.names, dtype="S"))
            f.create_dataset("orientation_sign", data=orientation_sign(cube.names))
            f.create_dataset("ids", data=cube.ids)
            f.create_dataset("labels", data=cube.labels)
            f.create_dataset("seeds", data=cube.seeds)
            f.attrs["layout"] = "S[run, example, score]; S = S_raw * orientation_sign (higher = harder)"
            if prov:
                set_h5_attrs(f, prov)


def read_cube(path) -> ScoreCube:
    with h5py.File(path, "r") as f:
        return ScoreCube(f["S"][()], f["S_raw"][()], [n.decode() for n in f["score_names"][()]],
                         f["ids"][()], f["labels"][()], f["seeds"][()])


def mean_table(cube: ScoreCube) -> pd.DataFrame:
    """Per example, raw orientation: ``<score>_mean``, ``_std`` (ddof 1), ``_min``, ``_max``
    over the runs (spec §6.1 ``mean.csv``)."""
    cols = {"id": cube.ids, "label": cube.labels}
    for j, n in enumerate(cube.names):
        v = cube.S_raw[:, :, j]
        cols.update({f"{n}_mean": v.mean(axis=0),
                     f"{n}_std": v.std(axis=0, ddof=1) if len(v) > 1 else np.full(v.shape[1], np.nan),
                     f"{n}_min": v.min(axis=0), f"{n}_max": v.max(axis=0)})
    return pd.DataFrame(cols)


def write_score_cube(run_tables: Sequence[str], cube_path: str, mean_path: str,
                     config: Mapping | None = None) -> None:
    """Stack one model's per-run tables (in seed order) into ``per_run.h5`` and its mean table."""
    tables = [read_csv(p) for p in run_tables]
    seeds = [int(read_csv_provenance(p).get("seed", i)) for i, p in enumerate(run_tables)]
    cube = stack_tables(tables, seeds=seeds)
    prov = provenance(config, inputs=run_tables, runs=len(tables))
    write_cube(cube, cube_path, prov)
    write_csv(mean_table(cube), mean_path, prov)


# ----------------------------------------------------------------------------- ensemble scores

def _eval_group(path, eval_set):
    f = h5py.File(path, "r")
    if eval_set not in f:
        f.close()
        raise KeyError(f"{path} has no eval set '{eval_set}'")
    return f


def agr_table(logits: Sequence[str], eval_set: str = "train", pairwise: bool = False,
              final_only: bool = False) -> pd.DataFrame:
    """ENSEMBLE AGREEMENT (spec §3.3) of the runs ``logits`` (one ``logits.h5`` each): id, label,
    agr -- the JSD among the members averaged over the eval points after epoch 0 (or the final
    one with ``final_only``)."""
    files = [_eval_group(p, eval_set) for p in logits]
    try:
        ids = files[0][eval_set]["ids"][()]
        for f in files[1:]:
            if not np.array_equal(f[eval_set]["ids"][()], ids):
                raise ValueError("AGR ensemble members disagree on the scored examples")
            if not np.array_equal(f["steps"][()], files[0]["steps"][()]):
                raise ValueError("AGR ensemble members have different eval points")
        rows = [-1] if final_only else training_eval_rows(files[0]["epochs"][()])
        agr = ensemble_agreement([f[eval_set]["logits"] for f in files], rows=rows, pairwise=pairwise)
        labels = files[0][eval_set]["labels"][()]
    finally:
        for f in files:
            f.close()
    return pd.DataFrame({"id": ids, "label": labels, "agr": agr})


def write_agr(logits: Sequence[str], out: str, s: Mapping, config: Mapping | None = None) -> None:
    a = s["agr"]
    write_csv(agr_table(logits, s["eval_set"], a.get("pairwise", False), a.get("final_only", False)),
              out, provenance(config, inputs=logits, members=len(logits)))


def ret_table(children: Sequence[str], parents: Sequence[str], eval_set: str = "train") -> pd.DataFrame:
    """HOLDOUT RETRAINING substitute (spec §3.3): per example the symmetric KL between a parent
    run's final outputs and those of its copy fine-tuned on held-out data (``children[j]`` starts
    from ``parents[j]``), averaged over the pairs. Columns id, label, ret."""
    if len(children) != len(parents) or not children:
        raise ValueError("one parent per fine-tuned run, at least one")
    before, after, index = [], [], []
    ids = labels = None
    for c, p in zip(children, parents):
        with h5py.File(c, "r") as fc, h5py.File(p, "r") as fp:
            gc, gp = fc[eval_set], fp[eval_set]
            if ids is None:
                ids, labels = gp["ids"][()], gp["labels"][()]
            if not (np.array_equal(gc["ids"][()], ids) and np.array_equal(gp["ids"][()], ids)):
                raise ValueError(f"{c} and {p} do not score the same examples")
            before.append(gp["logits"][-1].astype(np.float64))
            after.append(gc["logits"][-1].astype(np.float64))
            index.append(np.arange(len(ids)))
    ret = holdout_retraining(before, after, index, len(ids))
    return pd.DataFrame({"id": ids, "label": labels, "ret": ret})


def write_ret(children: Sequence[str], parents: Sequence[str], out: str, s: Mapping,
              config: Mapping | None = None) -> None:
    write_csv(ret_table(children, parents, s["eval_set"]), out,
              provenance(config, inputs=list(children) + list(parents), pairs=len(children)))


# ----------------------------------------------------------------------------- small tables

def param_counts(checkpoints: Mapping[str, str]) -> pd.DataFrame:
    """model, arch, family, n_params (trainable) from one ``model.pt`` per model."""
    from pointwise.models import build_model, count_parameters

    rows = []
    for name, path in checkpoints.items():
        ck = torch.load(path, map_location="cpu", weights_only=False)
        net = build_model(ck["arch"], tuple(ck["in_shape"]), int(ck["num_classes"]))
        rows.append((name, ck.get("arch_name", ""), ck["arch"]["family"], count_parameters(net)))
    return pd.DataFrame(rows, columns=["model", "arch", "family", "n_params"])


def write_param_counts(checkpoints: Mapping[str, str], out: str, config: Mapping | None = None) -> None:
    write_csv(param_counts(checkpoints), out, provenance(config, inputs=list(checkpoints.values())))


def write_orientation(out: str, config: Mapping | None = None) -> None:
    """The orientation table (spec §3.2 sign column): key, label, sign, per_run, description."""
    write_csv(orientation_table(), out, provenance(config))


SCORE_LABELS = {k: SCORES[k].label for k in SCORES}
