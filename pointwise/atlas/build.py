"""The atlas: one row per example of a dataset, every lens's per-example measures side by side,
and the cross-lens analyses computed from it.

Rows are the dataset's examples (``example_id``, ``label``, ``split`` and, for a dataset with
injected label noise, ``flipped`` and ``label_orig``). Each lens joins on ``example_id``; an id a
lens reports that is not an example of the dataset is an error (the lens was computed on another
dataset), and an example a lens did not measure keeps NaN in that lens's columns.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping

import h5py
import numpy as np
import pandas as pd

from pointwise.io import read_csv, write_csv
from pointwise.provenance import provenance

from . import lenses
from .stats import adjusted_rand, auroc, cramers_v, jaccard_top, spearman_matrix

log = logging.getLogger(__name__)

# Each lens's default "hard" measure for the hard-set overlap (oriented higher = harder).
HARD = {"profiles": "profiles_final_acc", "robustness": "robustness_testbed_acc",
        "depth": "depth_mpd_val", "scores": "scores_pc1"}
TAXONOMIES = ("profiles_category", lenses.CORNER)


def dataset_rows(path) -> pd.DataFrame:
    """example_id, label, split (name) and the label-noise extras of a dataset file (no images)."""
    with h5py.File(path, "r") as f:
        names = json.loads(f.attrs["split_names"])
        df = pd.DataFrame({"example_id": f["ids"][()].astype(np.int64), "label": f["labels"][()].astype(np.int64),
                           "split": np.asarray(names, dtype=object)[f["split"][()]]})
        for key in ("flipped", "labels_orig"):
            if key in f.get("extras", {}):
                df["label_orig" if key == "labels_orig" else key] = f["extras"][key][()]
    if df["example_id"].duplicated().any():
        raise ValueError(f"{path}: example ids are not unique")
    return df


def join(rows: pd.DataFrame, frames: Mapping[str, pd.DataFrame], name: str = "atlas") -> pd.DataFrame:
    """Left-join every lens frame (indexed by example_id) onto the dataset rows, checking that no
    lens reports an example outside the dataset and that no row is lost or duplicated."""
    out = rows.set_index("example_id")
    for lens, frame in frames.items():
        unknown = frame.index.difference(out.index)
        if len(unknown):
            raise ValueError(f"atlas {name}: {len(unknown)} example id(s) of lens '{lens}' are not examples "
                             f"of the dataset (e.g. {list(unknown[:3])}); was the lens computed on another dataset?")
        clash = out.columns.intersection(frame.columns)
        if len(clash):
            raise ValueError(f"atlas {name}: lens '{lens}' repeats column(s) {list(clash)}")
        out = out.join(frame, how="left")
        log.info("atlas %s: lens %s covers %d of %d examples", name, lens, len(frame), len(out))
    if len(out) != len(rows) or out.index.duplicated().any():
        raise AssertionError(f"atlas {name}: the join changed the rows")
    return out.reset_index()


def measures(atlas: pd.DataFrame) -> list[str]:
    """The numeric lens columns of an atlas, in column order."""
    skip = {"example_id", "label", "split", "flipped", "label_orig"}
    return [c for c in atlas.columns if c not in skip and c not in lenses.CATEGORICAL and pd.api.types.is_numeric_dtype(atlas[c])
            and atlas[c].notna().any()]


def oriented(atlas: pd.DataFrame) -> pd.DataFrame:
    """The numeric lens columns multiplied by their orientation: higher = harder everywhere."""
    return pd.DataFrame({c: lenses.orientation(c) * atlas[c].astype(np.float64) for c in measures(atlas)})


def auroc_table(atlas: pd.DataFrame) -> pd.DataFrame:
    """AUROC of every oriented measure for finding the examples whose label was flipped, over the
    flipped-capable examples the measure covers (training split); measures that cover no flipped
    or no clean example are left out. Empty without label noise."""
    if "flipped" not in atlas or not atlas["flipped"].any():
        return pd.DataFrame(columns=["measure", "auroc", "n", "n_flipped"])
    o = oriented(atlas)
    train = (atlas["split"] == "train").to_numpy()
    rows = []
    for c in o.columns:
        ok = train & o[c].notna().to_numpy()
        n, n_flipped = int(ok.sum()), int(atlas["flipped"][ok].sum())
        if 0 < n_flipped < n:
            rows.append({"measure": c, "auroc": auroc(o[c][ok], atlas["flipped"][ok]), "n": n,
                         "n_flipped": n_flipped})
    cols = ["measure", "auroc", "n", "n_flipped"]
    return pd.DataFrame(rows, columns=cols).sort_values("auroc", ascending=False, ignore_index=True)


def jaccard_table(atlas: pd.DataFrame, hard: Mapping[str, str], fraction: float) -> pd.DataFrame:
    """Jaccard overlap of each pair of lenses' top-``fraction`` hard sets (on shared examples)."""
    o = oriented(atlas)
    present = {lens: col for lens, col in hard.items() if col in o.columns}
    rows = []
    for a, ca in present.items():
        for b, cb in present.items():
            r = jaccard_top(o[ca], o[cb], atlas["example_id"], fraction)
            rows.append({"lens_a": a, "measure_a": ca, "lens_b": b, "measure_b": cb, **r})
    return pd.DataFrame(rows, columns=["lens_a", "measure_a", "lens_b", "measure_b", "jaccard", "n", "k"])


def taxonomy_table(atlas: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Contingency of the paper-000 profile classes and the paper-002 nearest corners on the
    examples that have both, with Cramér's V and the adjusted Rand index."""
    a, b = TAXONOMIES
    if a not in atlas or b not in atlas:
        return pd.DataFrame(columns=[a, b, "count"]), {"n": 0, "cramers_v": np.nan, "adjusted_rand": np.nan}
    both = atlas[[a, b]].dropna()
    ct = pd.crosstab(both[a], both[b])
    long = ct.stack().rename("count").reset_index()
    summary = {"n": int(len(both)), "cramers_v": cramers_v(ct.to_numpy()) if len(both) else np.nan,
               "adjusted_rand": adjusted_rand(ct.to_numpy()) if len(both) else np.nan}
    return long, summary


# ------------------------------------------------------------------ workflow entry points

def write_atlas(name: str, dataset: str, sources: Mapping[str, list], out: str,
                config: Mapping | None = None) -> pd.DataFrame:
    """Build the atlas of ``dataset`` from each lens's tables (``sources``: lens -> paths, in the
    order its reader takes them) and write it as CSV with provenance."""
    frames = {lens: lenses.READERS[lens](*paths) for lens, paths in sources.items()}
    atlas = join(dataset_rows(dataset), frames, name)
    inputs = [dataset] + [p for ps in sources.values() for p in ps if p]
    write_csv(atlas, out, provenance(config, inputs=inputs, atlas=name))
    return atlas


def write_analyses(atlas_path: str, outputs: Mapping[str, str], hard: Mapping[str, str] | None = None,
                   fraction: float = 0.1, n_boot: int = 200, seed: int = 0,
                   config: Mapping | None = None) -> None:
    """The four cross-lens tables of one atlas: ``spearman``, ``auroc``, ``jaccard``, ``taxonomy``
    (contingency) and ``taxonomy_summary``."""
    atlas = read_csv(atlas_path)
    prov = provenance(config, inputs=[atlas_path], seed=seed)
    o = oriented(atlas)
    write_csv(spearman_matrix(o, o.columns, n_boot=n_boot, seed=seed), outputs["spearman"], prov)
    write_csv(auroc_table(atlas), outputs["auroc"], prov)
    write_csv(jaccard_table(atlas, {**HARD, **(hard or {})}, fraction), outputs["jaccard"],
              {**prov, "top_fraction": fraction})
    long, summary = taxonomy_table(atlas)
    write_csv(long, outputs["taxonomy"], prov)
    write_csv(pd.DataFrame([summary]), outputs["taxonomy_summary"], prov)
