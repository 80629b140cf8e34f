"""The ``papers.robustness`` section of the config: defaults, cross-reference checks and the run
lists the Snakemake rules turn into file paths (paper 001; docs/papers/robustness.md).

Names used throughout the paper-001 tables:

* **Roles of test sets.** ``id`` is the ID test set; every OOD set has a role name (``rep``,
  ``style``, ...; ``settings["ood_sets"]`` maps role -> eval-set name in the runs' ``logits.h5``).
  Prediction files and tables name sets by role, so imported predictions and the workflow's own
  runs share one vocabulary.
* **Testbed models** are named ``{experiment}/{arch}/s{seed}`` (final eval point of each run).
* **Fine-tuning configurations** (``runs``) are named in the config; one configuration = all
  seeds of one experiment/arch, one binned ER curve per OOD role.
* **Special models** (spec §3.12) are ``{run}@max_er`` and ``{run}@converged`` of seed
  ``special_seed`` of each run listed in ``special``, plus ``zeroshot:{name}`` models.
"""
from __future__ import annotations

import copy
from typing import Mapping

#: Defaults of every optional key (the spec's choices; see docs/papers/robustness.md).
DEFAULTS: dict = {
    "scaling": "logit",          # Table 3 / ER scaling (App. A: logit has the best R²)
    "alpha": 0.05,               # 95% Clopper–Pearson intervals (App. B.5)
    "clip": True,                # clip accuracies to [1/(2n), 1 − 1/(2n)] before probit/logit (§3.1)
    "bins": 100,                 # binned average over runs (App. B.5)
    "min_count": None,           # bins eligible for max ER: None = min(2, runs) (§3.5)
    "exclude_epoch0": True,      # the untrained head is not a fine-tuning checkpoint (§3.4)
    "min_gap": 0.01,             # ER share of the gap masked below a 1 pp gap (§3.7)
    "special_seed": 0,           # the designated run of max-ER / converged checkpoints (§3.12)
    "special": [],               # runs whose seed gives the special models
    "runs": {},
    "main": {"full": [], "head": [], "random": []},
    "sweeps": {},
    "zeroshot": {},
    "difficulty": None,
    "imported": {},
    "triplets": {"rel_tol": 0.5, "min_prob": 0.0, "max_triplets": 20000, "seed": 0},
    "claims": {"high_er_pp": 1.0, "random_band_pp": 1.5, "pair_window_pp": 5.0},
    "runtime_minutes": 20,
    "mem_mb": 4000,
}

#: The sweeps the paper varies and the figures that read them.
SWEEPS = ("size", "diversity", "model_size", "lr", "loss", "difficulty", "mode")
#: The interventions of §5.5 (claim C12; Figs 19, 22, 23): the first run of each is the
#: configuration the others modify.
INTERVENTIONS = ("replay", "classmap", "l2_init", "phaseout", "phaseout_random")
INITS = ("pretrained", "random")
MODES = ("head", "full", "zeroshot")


class SettingsError(ValueError):
    """A ``papers.robustness`` key refers to something that does not exist."""


def settings(config: Mapping) -> dict:
    """``papers.robustness`` with defaults filled in and every name checked against the config.

    Raises :class:`SettingsError` naming the offending key. Returns a new dict (the config is
    not modified)."""
    raw = (config.get("papers") or {}).get("robustness")
    if raw is None:
        raise SettingsError("config key 'papers.robustness': missing (paper 001 needs its settings)")
    s = copy.deepcopy(DEFAULTS)
    for key, value in raw.items():
        if isinstance(s.get(key), dict) and isinstance(value, Mapping) and key in ("triplets", "claims", "main"):
            s[key] = {**s[key], **value}
        else:
            s[key] = copy.deepcopy(value)
    _check(s, config)
    return s


def _err(key: str, msg: str):
    raise SettingsError(f"config key 'papers.robustness.{key}': {msg}")


def _eval_sets(config: Mapping, exp: str) -> set:
    e = config["experiments"][exp]
    return set((e.get("eval_sets") or {"train": 0, "test": 0}).keys())


def _check(s: dict, config: Mapping) -> None:
    exps = config["experiments"]
    if not s.get("ood_sets"):
        _err("ood_sets", "give at least one OOD role -> eval set")
    if "id" in s["ood_sets"]:
        _err("ood_sets", "'id' is reserved for the ID test set")
    needed = {s["id_set"], *s["ood_sets"].values()}
    if not s.get("testbed"):
        _err("testbed", "give at least one testbed experiment")
    for i, tb in enumerate(s["testbed"]):
        exp = tb["experiment"]
        if exp not in exps:
            _err(f"testbed[{i}].experiment", f"unknown experiment '{exp}'")
        for arch in tb.get("archs") or []:
            if arch not in exps[exp]["archs"]:
                _err(f"testbed[{i}].archs", f"experiment '{exp}' has no arch '{arch}'")
        missing = needed - _eval_sets(config, exp)
        if missing:
            _err(f"testbed[{i}]", f"experiment '{exp}' does not evaluate {sorted(missing)}; every "
                 "testbed run needs the ID set and every OOD set")
    for name, r in s["runs"].items():
        if "@" in name or "/" in name or ":" in name:
            _err(f"runs.{name}", "run names may not contain '@', '/' or ':'")
        if r["experiment"] not in exps:
            _err(f"runs.{name}.experiment", f"unknown experiment '{r['experiment']}'")
        if r["arch"] not in exps[r["experiment"]]["archs"]:
            _err(f"runs.{name}.arch", f"experiment '{r['experiment']}' has no arch '{r['arch']}'")
        if s["id_set"] not in _eval_sets(config, r["experiment"]):
            _err(f"runs.{name}", f"experiment '{r['experiment']}' does not evaluate the ID set '{s['id_set']}'")
        if not set(s["ood_sets"].values()) & _eval_sets(config, r["experiment"]):
            _err(f"runs.{name}", f"experiment '{r['experiment']}' evaluates none of the OOD sets")
    for group, names in s["main"].items():
        for n in names:
            if n not in s["runs"]:
                _err(f"main.{group}", f"unknown run '{n}'")
    for sweep, spec in s["sweeps"].items():
        for n in spec["runs"]:
            if n not in s["runs"]:
                _err(f"sweeps.{sweep}.runs", f"unknown run '{n}'")
    for n in s["special"]:
        if n not in s["runs"]:
            _err("special", f"unknown run '{n}'")
        exp = s["runs"][n]["experiment"]
        from pointwise.config import n_seeds
        if s["special_seed"] >= n_seeds(config, exp):
            _err("special_seed", f"experiment '{exp}' has only {n_seeds(config, exp)} seeds")
        missing = needed - _eval_sets(config, exp)
        if missing:
            _err("special", f"run '{n}' ({exp}) does not evaluate {sorted(missing)}; special models need every set")
    for name, z in s["zeroshot"].items():
        if z["experiment"] not in exps:
            _err(f"zeroshot.{name}.experiment", f"unknown experiment '{z['experiment']}'")
        if z["arch"] not in exps[z["experiment"]]["archs"]:
            _err(f"zeroshot.{name}.arch", f"experiment '{z['experiment']}' has no arch '{z['arch']}'")
        missing = needed - _eval_sets(config, z["experiment"])
        if missing:
            _err(f"zeroshot.{name}", f"experiment '{z['experiment']}' does not evaluate {sorted(missing)}")
    d = s["difficulty"]
    if d:
        src = d["scores_from"]["experiment"]
        if src not in exps:
            _err("difficulty.scores_from.experiment", f"unknown experiment '{src}'")
        ev = d["scores_from"].get("eval_set", "train")
        if ev not in _eval_sets(config, src):
            _err("difficulty.scores_from.eval_set", f"experiment '{src}' has no eval set '{ev}'")
        for exp, kind in (d.get("designs") or {}).items():
            if exp not in exps:
                _err(f"difficulty.designs.{exp}", "unknown experiment")
            if kind not in ("easy", "hard", "random"):
                _err(f"difficulty.designs.{exp}", f"'{kind}' is not one of easy, hard, random")
        ph = d.get("phaseout") or {}
        for exp, n_final in (ph.get("designs") or {}).items():
            if exp not in exps:
                _err(f"difficulty.phaseout.designs.{exp}", "unknown experiment")
            if exp in (d.get("designs") or {}):
                _err(f"difficulty.phaseout.designs.{exp}", "already a difficulty-subset design")
            if n_final not in ph.get("final", []):
                _err(f"difficulty.phaseout.designs.{exp}", f"{n_final} is not one of the schedules "
                     f"{ph.get('final', [])}")
            if exps[exp]["design"]["kind"] != "full":
                _err(f"difficulty.phaseout.designs.{exp}", "the experiment's design must be kind 'full' "
                     "(every seed starts on the whole pool)")
    for name in s["imported"]:
        if not name.replace("_", "").isalnum():
            _err(f"imported.{name}", "names may hold letters, digits and '_' only")


# ------------------------------------------------------------------------------------ run lists

def testbed_members(s: dict, config: Mapping) -> list[tuple[str, str, int]]:
    """(experiment, arch, seed) of every testbed model, in config order."""
    from pointwise.config import n_seeds
    out = []
    for tb in s["testbed"]:
        exp = tb["experiment"]
        archs = tb.get("archs") or list(config["experiments"][exp]["archs"])
        seeds = min(tb.get("seeds", n_seeds(config, exp)), n_seeds(config, exp))
        out += [(exp, arch, seed) for arch in archs for seed in range(seeds)]
    return out


def model_name(exp: str, arch: str, seed: int) -> str:
    return f"{exp}/{arch}/s{seed}"


def run_members(s: dict, config: Mapping, run: str) -> list[tuple[str, str, int]]:
    """(experiment, arch, seed) of every seed of fine-tuning configuration ``run``."""
    from pointwise.config import n_seeds
    r = s["runs"][run]
    n = min(r.get("seeds", n_seeds(config, r["experiment"])), n_seeds(config, r["experiment"]))
    return [(r["experiment"], r["arch"], seed) for seed in range(n)]


def sets_of(s: dict, config: Mapping, experiment: str) -> dict[str, str]:
    """Role -> eval-set name of the sets ``experiment`` evaluates (ID first)."""
    have = _eval_sets(config, experiment)
    out = {"id": s["id_set"]}
    out.update({role: ev for role, ev in s["ood_sets"].items() if ev in have})
    return out


def run_sets(s: dict, config: Mapping, run: str) -> dict[str, str]:
    """Role -> eval-set name of the sets a fine-tuning configuration evaluates: :func:`sets_of`,
    plus ``source`` (the pretraining source through its kept head) when its recipe replays."""
    from pointwise.config import recipe
    r = s["runs"][run]
    out = sets_of(s, config, r["experiment"])
    rep = recipe(config, r["experiment"], r["arch"]).get("replay")
    if rep and rep.get("eval_split", "test"):
        out["source"] = "source"
    return out


def all_sets(s: dict) -> dict[str, str]:
    """Role -> eval-set name: ``id`` then every OOD role."""
    return {"id": s["id_set"], **s["ood_sets"]}


def ood_roles(s: dict) -> list[str]:
    return list(s["ood_sets"])


def imported_spec(s: dict, name: str) -> dict:
    """Normalised ``imported.{name}``: {path, id, ood (role -> file-set name), testbed, others}.
    A bare path means: the set ``id`` is the ID set and every other label file an OOD set named
    by its stem; every model is a testbed model."""
    v = s["imported"][name]
    if isinstance(v, str):
        v = {"path": v}
    out = {"path": v["path"], "id": v.get("id", "id"), "ood": v.get("ood"),
           "others": list(v.get("others") or []), "num_classes": v.get("num_classes")}
    if isinstance(out["ood"], list):
        out["ood"] = {x: x for x in out["ood"]}
    return out


def figure_sweeps(s: dict) -> dict[str, str]:
    """Figure slug -> sweep it reads, for the configured sweeps only."""
    table = {"fig04a_maxer_vs_size": "size", "fig15_size_curves": "size",
             "fig04b_maxer_vs_source": "diversity", "fig18_by_source": "diversity",
             "fig16_maxer_vs_arch": "model_size", "fig17_by_arch": "model_size",
             "fig12_lr": "lr", "fig11_loss": "loss", "fig04c_difficulty": "difficulty",
             "fig13_full_vs_last": "mode"}
    return {fig: sw for fig, sw in table.items() if sw in s["sweeps"]}


# ------------------------------------------------------------------------------ figures, targets

#: Table key -> path under ``tables/robustness`` (the inputs figure rules name).
TABLES = {
    "binned": "er/binned.csv", "max_er": "er/max_er.csv", "points": "er/points.csv",
    "sweeps": "er/sweeps.csv", "gap_reference": "er/gap_reference.csv",
    "model_er": "testbed/model_er.csv", "fits": "testbed/fits.csv",
    "special": "special/special_models.csv", "zeroshot": "zeroshot/zeroshot.csv",
    "phaseout": "difficulty/phaseout.csv", "accuracies": "runs/accuracies.csv",
}

#: Figures drawn once per predictions set (the testbed or an imported set) -> their tables there.
PSET_FIGURES = {
    "fig02ab_testbed_fit": ("model_er", "fits"),
    "fig05abc_dominance_unique": ("dominance_pairs", "dominance_matrix", "unique_correct"),
    "fig21_dominance_full": ("dominance_matrix",),
    "fig20_triplets": ("triplets", "triplets_models"),
}


def figures(s: dict) -> dict[str, tuple[tuple[str, ...], str | None]]:
    """Figure slug -> (table keys of :data:`TABLES`, sweep) of every workflow figure the settings
    support (a figure is left out when its runs are not configured)."""
    er = ("binned", "max_er", "model_er")
    out = {}
    main = s["main"]
    if s["special"]:
        out["fig01a_er_definition"] = (("model_er", "fits", "special"), None)
    if main["full"] or main["head"]:
        out["fig01bc_id_vs_ood"] = (("points", "binned", "model_er", "fits"), None)
        out["fig06_errorbars"] = (er, None)
        out["fig24_gap_fraction"] = (("binned", "gap_reference"), None)
    if main["full"]:
        out["fig03a_er_full_ft"] = (er, None)
    if main["head"]:
        out["fig03b_er_head"] = (er, None)
    if len(s["ood_sets"]) > 1:
        out["fig03cd_er_style"] = (er, None)
        out["fig09_style_acc"] = (("binned", "model_er", "fits"), None)
    out["fig07_std_variants"] = (("max_er",), None)
    if (main["full"] or main["head"]) and main["random"]:
        out["fig08_pre_vs_rand"] = (er + ("points",), None)
    if s["zeroshot"]:
        out["fig14_zeroshot_agg"] = (("zeroshot",), None)
    if s["difficulty"] and (s["difficulty"].get("phaseout") or {}).get("final"):
        out["phaseout_schedule"] = (("phaseout",), None)
    for fig, sweep in figure_sweeps(s).items():
        out[fig] = (("sweeps",) if "maxer" in fig else er + ("sweeps",), sweep)
    sw = s["sweeps"]
    if "phaseout" in sw or "phaseout_random" in sw:
        out["fig19_phaseout"] = (("binned", "model_er", "sweeps"), None)
    if "replay" in sw:
        out["fig22_replay"] = (("binned", "model_er", "sweeps", "accuracies"), None)
    if "classmap" in sw or "l2_init" in sw:
        out["fig23_classmap_l2"] = (("binned", "model_er", "sweeps"), None)
    return out


def psets(s: dict) -> list[str]:
    """Predictions sets analysed per example: the workflow's testbed and each imported set."""
    return ["testbed"] + [f"imported_{n}" for n in s["imported"]]


def targets(s: dict, tables: str, figures_dir: str, claims: str) -> list[str]:
    """Every final paper-001 file of the settings (figures as PDF and PNG, Tables 2/3, the
    per-model and per-example tables of each predictions set, the claims)."""
    out = [f"{figures_dir}/{f}.{ext}" for f in figures(s) for ext in ("pdf", "png")]
    out += [f"{figures_dir}/{p}/{f}.{ext}" for p in psets(s) for f in PSET_FIGURES for ext in ("pdf", "png")]
    out += [f"{tables}/{p}/{t}.csv" for p in psets(s)
            for t in ("testbed_acc", "table2_scaling_r2", "table3_fit_params", "unique_correct_examples",
                      "per_example")]
    out += [f"{claims}/robustness.csv", f"{tables}/er/mixed_classifier.csv"]
    if s["difficulty"]:
        out.append(f"{tables}/difficulty/cscore.csv")
    return out
