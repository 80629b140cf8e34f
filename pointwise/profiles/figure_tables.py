"""Workflow glue of paper 000's line and example tables (one write-style function per rule, like
:mod:`pointwise.profiles.pipeline`):

- :func:`global_tables`: every run's accuracy at every checkpoint on the reference set and the
  ladder, over all examples and over the superclass, and the accuracy-on-the-line fits of Fig. 2
  (left, middle) and claim C14 (:mod:`.accline`);
- :func:`example_tables`: the example points of Figs. 2, 3, 6 (middle), 7(c), 8, 9, 13 and 14
  (:mod:`.examples`) with their images from the dataset store and their profiles, so that the
  figures read tables only.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from pointwise.data.image_table import image_rows
from pointwise.io import read_csv, write_csv
from pointwise.provenance import provenance

from .accline import line_table, subset_accuracy
from .examples import (band_means, gallery_picks, neg_pick, pretraining_pick, random_picks, switch_pick,
                       switch_scores, taxonomy_picks, zoom_pick)
from .load import load_logits
from .store import read_profiles


def global_tables(models: Mapping[str, Sequence[str]], s: Mapping, out_acc: str, out_line: str,
                  config: Mapping | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``global_accuracy.csv``: one row per (model, run, checkpoint, eval set, subset) with the
    accuracy (step 0 dropped, as for profiles); ``accuracy_line.csv``: :func:`.accline.line_table`
    per model (``kind`` = model) and per regime with its models pooled (``kind`` = regime)."""
    sets = list(dict.fromkeys([s["reference"], *s["ladder"]]))
    frames = []
    for name, paths in models.items():
        m = s["models"][name]
        for ev in sets:
            L = load_logits(list(paths), ev)
            correct = L.logits.argmax(-1) == L.labels[None, None, :]
            masks = {"all": np.ones(L.labels.size, bool), "superclass": np.isin(L.labels, s["superclass"])}
            for sub, a in subset_accuracy(correct, masks).items():
                R, K = a.shape
                frames.append(pd.DataFrame({
                    "model": name, "regime": m["regime"], "arch": m["arch"],
                    "run": np.repeat(np.arange(R), K), "k": np.tile(np.arange(K), R),
                    "step": np.tile(L.steps, R), "epoch": np.tile(L.epochs, R), "evalset": ev,
                    "subset": sub, "n": int(masks[sub].sum()), "accuracy": a.ravel()}))
    acc = pd.concat(frames, ignore_index=True)
    regimes = {}
    for name, m in s["models"].items():
        regimes.setdefault(m["regime"], []).append(name)
    per_model = line_table(acc, s["reference"], {n: [n] for n in models}).assign(kind="model")
    pooled = line_table(acc, s["reference"], regimes).assign(kind="regime")
    line = pd.concat([pooled, per_model], ignore_index=True)
    prov = provenance(config, inputs=[p for ps in models.values() for p in ps],
                      superclass=[int(c) for c in s["superclass"]])
    write_csv(acc, out_acc, prov)
    write_csv(line, out_line, prov)
    return acc, line


def _pairs(s: Mapping) -> list[tuple[str, str]]:
    """(scratch, pretrained) model pairs of the same architecture, in config order."""
    ms = s["models"]
    return [(a, b) for a in ms if ms[a]["regime"] == "scratch"
            for b in ms if ms[b]["regime"] == "pretrained" and ms[a]["arch"] == ms[b]["arch"]]


def example_picks(scores: Mapping[str, pd.DataFrame], s: Mapping, ref_profiles=None) -> list[dict]:
    """The examples of the figures as ``{role, evalset, row, category, models}`` (``models``: the
    models whose profiles are stored for it; optional ``extra``: further columns of its row):
    ``zoom`` (Fig. 2), ``taxonomy`` on the reference set and on the last ladder rung under the
    first model (Fig. 3), ``pretraining`` (Fig. 6 middle), ``gallery`` (Fig. 8: ``pick`` says
    why), ``switch`` (Fig. 9, from ``ref_profiles``: ``pred_lo``/``pred_hi``, ``mass_lo``/
    ``mass_hi``, ``switch_score``) and ``sample`` (Fig. 14: a seeded sample of the reference set).

    scores: "model/evalset" -> score table, every table of an eval set in the same row order;
    ref_profiles: the first model's reference-set profiles in its score table's row order (no
    ``switch`` row without them)."""
    ref = s["reference"]
    models = list(s["models"])
    first = models[0]
    scratch = [m for m in models if s["models"][m]["regime"] == "scratch"] or [first]
    picks = [{"role": "zoom", "evalset": ref, "row": zoom_pick([scores[f"{m}/{ref}"] for m in scratch]),
              "models": models}]
    for ev in dict.fromkeys([ref, s["ladder"][-1]]):
        for cat, row in taxonomy_picks(scores[f"{first}/{ev}"]).items():
            picks.append({"role": "taxonomy", "evalset": ev, "row": row, "category": cat, "models": [first]})
    pairs = _pairs(s)
    if pairs:
        a, b = pairs[0]
        picks.append({"role": "pretraining", "evalset": ref, "models": [a, b],
                      "row": pretraining_pick(scores[f"{a}/{ref}"], scores[f"{b}/{ref}"])})
    for pick, row in gallery_picks(scores[f"{first}/{ref}"], s["gallery_top"]):
        picks.append({"role": "gallery", "evalset": ref, "row": row, "models": [first], "extra": {"pick": pick}})
    if ref_profiles is not None and ref_profiles.softmax is not None:
        grid, sm, band = ref_profiles.grid, ref_profiles.softmax, s["switch_band"]
        row = switch_pick(grid, sm, ref_profiles.labels, band)
        if row is not None:
            c_lo, c_hi, score = switch_scores(grid, sm[row:row + 1], band)
            lo, hi = band_means(grid, sm[row], band)
            picks.append({"role": "switch", "evalset": ref, "row": row, "models": [first],
                          "extra": {"pred_lo": int(c_lo[0]), "pred_hi": int(c_hi[0]), "mass_lo": float(lo[c_lo[0]]),
                                    "mass_hi": float(hi[c_hi[0]]), "switch_score": float(score[0])}})
    n = len(scores[f"{first}/{ref}"])
    for row in random_picks(n, s["n_samples"], s["seed"]):
        picks.append({"role": "sample", "evalset": ref, "row": int(row), "models": []})
    return picks


def _profile_rows(prof, row: int) -> dict:
    out = {"g": np.arange(prof.grid.size), "p": prof.grid, "acc": prof.acc[row]}
    for k in ("negent", "softacc"):
        out[k] = np.full(prof.grid.size, np.nan) if getattr(prof, k) is None else getattr(prof, k)[row]
    if prof.softmax is not None:
        out.update({f"s{c}": prof.softmax[row, :, c] for c in range(prof.softmax.shape[-1])})
    return out


def example_tables(scores: Mapping[str, str], profiles: Mapping[str, str], data: Mapping[str, str],
                   s: Mapping, out_examples: str, out_profiles: str, neg_indices: str | None = None,
                   neg_profiles: str | None = None, config: Mapping | None = None) -> pd.DataFrame:
    """``examples.csv`` (role, evalset, category, id, label, label_name, the first model's
    nmono_acc and final_acc, and the image; ``pick`` for the gallery, ``pred_lo``/``pred_hi``
    with their names, ``mass_lo``/``mass_hi`` and ``switch_score`` for Fig. 9's point) and
    ``example_profiles.csv`` (the stored profiles of each example on the grid: p, acc, negent,
    softacc and the softmax profile s0..s{C-1}). With ``neg_indices`` (the Neg set) a seeded
    sample of it is added (role ``sample``, Fig. 13), and with ``neg_profiles`` (the selecting
    model's profiles on the pool) the Neg point of highest selection nmono with its profile
    (role ``neg``, Fig. 7(c)).

    scores / profiles: "model/evalset" -> path (at least every model on the reference set and
    the first model on the last ladder rung); data: eval set -> dataset file."""
    from pointwise.data.store import read_dataset

    first = next(iter(s["models"]))
    sc = {k: read_csv(v) for k, v in scores.items()}
    for k in sc:     # every model's table in the first model's row order of the same eval set
        base = sc[f"{first}/{k.split('/', 1)[1]}"]
        if not sc[k]["source_id"].equals(base["source_id"]):
            sc[k] = sc[k].set_index("source_id").loc[base["source_id"]].reset_index()
    cache = {}

    def profile(key, path=None):
        if key not in cache:
            cache[key] = read_profiles(path or profiles[key])
        return cache[key]

    ref_key = f"{first}/{s['reference']}"
    ref_prof, ref_ids = profile(ref_key)
    if not np.array_equal(np.asarray(ref_ids), sc[ref_key]["source_id"].to_numpy()):
        raise ValueError(f"{profiles[ref_key]}: ids not in the order of its score table")
    picks = example_picks(sc, s, ref_profiles=ref_prof)
    rows, prof_rows = [], []

    def add_profile(role, evalset, id_, m, prof, ids):
        pos = int(np.flatnonzero(np.asarray(ids) == id_)[0])
        prof_rows.append(pd.DataFrame({"role": role, "evalset": evalset, "id": int(id_), "model": m,
                                       "regime": s["models"][m]["regime"], **_profile_rows(prof, pos)}))

    for p in picks:
        t = sc[f"{first}/{p['evalset']}"]
        r = t.iloc[p["row"]]
        rows.append({"role": p["role"], "evalset": p["evalset"], "category": p.get("category", r["category"]),
                     "id": int(r["source_id"]), "label": int(r["label"]), "nmono_acc": r["nmono_acc"],
                     "final_acc": r["final_acc"], **p.get("extra", {})})
        for m in p["models"]:
            add_profile(p["role"], p["evalset"], r["source_id"], m, *profile(f"{m}/{p['evalset']}"))
    if neg_indices:
        ind = read_csv(neg_indices)
        for row in random_picks(len(ind), s["n_samples"], s["seed"]):
            rows.append({"role": "sample", "evalset": s["pool"], "category": None,
                         "id": int(ind["source_id"].iloc[row]), "label": int(ind["label"].iloc[row]),
                         "nmono_acc": ind["nmono"].iloc[row], "final_acc": ind["final_acc"].iloc[row]})
        if neg_profiles and len(ind):
            r = ind.iloc[neg_pick(ind["nmono"].to_numpy(np.float64))]
            rows.append({"role": "neg", "evalset": s["pool"], "category": None, "id": int(r["source_id"]),
                         "label": int(r["label"]), "nmono_acc": r["nmono"], "final_acc": r["final_acc"]})
            add_profile("neg", s["pool"], r["source_id"], s["neg_model"],
                        *profile(f"{s['neg_model']}/{s['pool']}", neg_profiles))
    ex = pd.DataFrame(rows)
    parts = []
    for ev, g in ex.groupby("evalset", sort=False):
        ds = read_dataset(data[ev])
        img = image_rows(ds.images, ds.ids, g["id"].to_numpy()).drop(columns="id")
        names = np.asarray(ds.class_names, dtype=object)
        g = g.reset_index(drop=True).assign(label_name=names[g["label"].to_numpy()])
        for c in ("pred_lo", "pred_hi"):
            if c in g:
                g[f"{c}_name"] = [names[int(v)] if pd.notna(v) else None for v in g[c]]
        parts.append(pd.concat([g, img], axis=1).set_axis(ex.index[ex["evalset"] == ev]))
    ex = pd.concat(parts).sort_index()
    prov = provenance(config, inputs=[*scores.values(), *profiles.values(), *data.values()]
                      + ([neg_indices] if neg_indices else []) + ([neg_profiles] if neg_profiles else []),
                      seed=s["seed"])
    write_csv(ex, out_examples, prov)
    write_csv(pd.concat(prof_rows, ignore_index=True), out_profiles, prov)
    return ex
