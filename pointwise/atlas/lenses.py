"""What each paper contributes to the atlas: which per-example table, which columns, and which way
is "harder".

A lens reads one or more of its paper's per-example tables (paths resolved by ``rules/atlas.smk``)
and returns a frame indexed by example id with columns ``<lens>_<measure>``. ``ORIENTATION`` says,
for every numeric atlas column, +1 if a higher value means a harder (or more unusual) example and
-1 if it means an easier one; the cross-lens statistics multiply by it, the atlas table keeps the
raw values.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from pointwise.depth.corners import GROUPS
from pointwise.io import read_csv

# Paper 000: tables/profiles/scores/{model}/{evalset}.csv
PROFILES = {"nmono_acc": ("profiles_nmono", +1),           # non-monotonicity of the accuracy profile
            "final_acc": ("profiles_final_acc", -1)}        # accuracy of the final checkpoints
PROFILES_CATEGORIES = {"category": "profiles_category"}     # easy / hard / compatible / non-monotone

# Paper 001: tables/robustness/testbed/per_example.csv (ID test examples) and the C-score proxy
# tables/robustness/difficulty/cscore.csv (pool training examples, held-out runs).
ROBUSTNESS = {"testbed_acc": ("robustness_testbed_acc", -1),
              "none_correct": ("robustness_none_correct", +1),
              "unique_correct": ("robustness_unique_correct", +1)}
CSCORE = {"cscore": ("robustness_cscore", -1)}

# Paper 002: tables/depth/{experiment}/{arch}/per_example.csv
DEPTH = {"mpd_train": ("depth_mpd_train", +1), "mpd_val": ("depth_mpd_val", +1),
         "consistency": ("depth_consistency", -1), "cstar": ("depth_cstar", -1),
         "entropy": ("depth_entropy", +1),
         "iter_learned_resc_train": ("depth_iter_learned", +1),
         "output_margin_val": ("depth_margin_val", -1)}
DEPTH_CATEGORIES = {"consensus": "depth_consensus"}
CORNER = "depth_corner"                                      # nearest of the four corners (Fig 7)

# Paper 003: tables/scores/examples.csv (every column but id/label, oriented already) and the
# sensitivity lambda of tables/scores/example_sensitivity.csv.
SCORES_PREFIX = "scores_"

CATEGORICAL = {*PROFILES_CATEGORIES.values(), *DEPTH_CATEGORIES.values(), CORNER}
ORIENTATION = {name: sign for spec in (PROFILES, ROBUSTNESS, CSCORE, DEPTH) for name, sign in spec.values()}


def orientation(column: str) -> int:
    """+1 / -1 for a numeric atlas column (every paper-003 score is oriented higher = harder)."""
    if column in ORIENTATION:
        return ORIENTATION[column]
    if column.startswith(SCORES_PREFIX):
        return +1
    raise KeyError(f"atlas column {column!r} has no orientation")


def _take(path, id_col: str, numeric: dict, categorical: dict | None = None) -> pd.DataFrame:
    df = read_csv(path)
    missing = [c for c in [id_col, *numeric, *(categorical or {})] if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}")
    if df[id_col].duplicated().any():
        raise ValueError(f"{path}: example ids are duplicated ({int(df[id_col].duplicated().sum())} rows)")
    out = pd.DataFrame(index=pd.Index(df[id_col].astype(np.int64), name="example_id"))
    for src, (dst, _sign) in numeric.items():
        out[dst] = df[src].astype(np.float64).to_numpy()
    for src, dst in (categorical or {}).items():
        out[dst] = df[src].to_numpy()
    return out


def profiles(*paths) -> pd.DataFrame:
    """Paper 000 score tables of one model on one or more eval sets with disjoint examples (e.g.
    the test split and the held-out profiles of the training pool)."""
    frames = [_take(p, "source_id", PROFILES, PROFILES_CATEGORIES) for p in paths]
    out = pd.concat(frames)
    if out.index.duplicated().any():
        raise ValueError(f"{list(paths)}: the eval sets share examples")
    return out


def robustness(testbed_path, cscore_path=None) -> pd.DataFrame:
    out = _take(testbed_path, "example_id", ROBUSTNESS)
    if cscore_path:
        out = out.join(_take(cscore_path, "id", CSCORE), how="outer")
    return out


def depth(path) -> pd.DataFrame:
    """Paper 002 measures plus the nearest corner of the (mPD_val, mPD_train) plane."""
    out = _take(path, "example_id", DEPTH, DEPTH_CATEGORIES)
    df = read_csv(path)
    dist = df[[f"dist_{g}" for g in GROUPS]].to_numpy(np.float64)
    nearest = np.array(list(GROUPS), dtype=object)[np.nanargmin(np.where(np.isnan(dist), np.inf, dist), axis=1)]
    out[CORNER] = np.where(np.isnan(dist).any(axis=1), None, nearest)
    return out


def scores(examples_path, sensitivity_path=None) -> pd.DataFrame:
    """Paper 003: the mean difficulty scores of the base model and their PC1
    (``tables/scores/examples.csv``, already oriented higher = harder) and the inductive-bias
    sensitivity lambda, the mean -ln P of the per-example architecture t-tests
    (``example_sensitivity.csv``)."""
    df = read_csv(examples_path)
    cols = [c for c in df.columns if c not in ("id", "example_id", "label")]
    out = _take(examples_path, "id", {c: (SCORES_PREFIX + c, +1) for c in cols})
    if sensitivity_path:
        out = out.join(_take(sensitivity_path, "id", {"lambda": (SCORES_PREFIX + "bias_neglogp", +1)}), how="outer")
    return out


READERS = {"profiles": profiles, "robustness": robustness, "depth": depth, "scores": scores}
