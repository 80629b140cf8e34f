"""Paper 001 glue on hand-made files: settings checks, the testbed and import writers, the fit
tables, ER tables from per-eval-point accuracies, special checkpoints, per-example tables, the
C-score proxy and difficulty designs, zero-shot, the claims and every figure function."""
import json

import h5py
import numpy as np
import pandas as pd
import pytest

from pointwise.data.store import ImageDataset, write_dataset
from pointwise.designs import read_design
from pointwise.io import read_csv, read_csv_provenance
from pointwise.robustness import LinearFit, baseline
from pointwise.robustness import pipeline as P
from pointwise.robustness import settings as S
from pointwise.robustness.claims import dominance_excess, robustness_claims
from pointwise.robustness.predictions import EvalSet, Predictions, write_predictions_h5


# ------------------------------------------------------------------------------------ helpers

def _onehot_logits(pred, classes):
    z = np.zeros((len(pred), classes), np.float16)
    z[np.arange(len(pred)), pred] = 4
    return z


def _logits_h5(path, sets, steps, epochs=None):
    """A logits.h5 in the engine's layout: sets = name -> (labels, [K, N] predictions, ids)."""
    with h5py.File(path, "w") as f:
        f.create_dataset("steps", data=np.asarray(steps))
        f.create_dataset("epochs", data=np.asarray(steps if epochs is None else epochs, dtype=float))
        for name, (labels, preds, ids) in sets.items():
            g = f.create_group(name)
            classes = int(max(labels.max(), preds.max()) + 1)
            g.create_dataset("logits", data=np.stack([_onehot_logits(p, classes) for p in preds]))
            g.create_dataset("labels", data=labels)
            g.create_dataset("ids", data=ids)


def _pred_with(labels, correct_mask, classes=4):
    """Predictions that are right exactly where ``correct_mask`` is true."""
    labels = np.asarray(labels)
    return np.where(correct_mask, labels, (labels + 1) % classes)


CONFIG = {
    "experiments": {
        "tb": {"dataset": "d", "design": {"kind": "full", "seeds": 2}, "archs": {"a": "r", "b": "r"},
               "eval_sets": {"test": "d:test", "o1": "c:test", "o2": "e:test"}},
        "ft": {"dataset": "d", "design": {"kind": "full", "seeds": 3}, "archs": {"a": "r"},
               "eval_sets": {"test": "d:test", "o1": "c:test"}},
    },
    "papers": {"robustness": {
        "id_set": "test", "ood_sets": {"rep": "o1", "style": "o2"},
        "testbed": [{"experiment": "tb"}, {"experiment": "tb", "archs": ["a"], "seeds": 1}],
        "runs": {"pre": {"experiment": "ft", "arch": "a", "init": "pretrained", "mode": "full"}},
        "main": {"full": ["pre"]},
        "sweeps": {"size": {"runs": {"pre": 10}}},
    }},
}


# ----------------------------------------------------------------------------------- settings

def test_settings_defaults_lists_and_errors():
    s = S.settings(CONFIG)
    assert s["bins"] == 100 and s["scaling"] == "logit" and s["main"]["head"] == []
    assert s["triplets"]["rel_tol"] == 0.5
    assert S.testbed_members(s, CONFIG) == [("tb", "a", 0), ("tb", "a", 1), ("tb", "b", 0), ("tb", "b", 1),
                                           ("tb", "a", 0)]
    assert S.run_members(s, CONFIG, "pre") == [("ft", "a", 0), ("ft", "a", 1), ("ft", "a", 2)]
    assert S.sets_of(s, CONFIG, "ft") == {"id": "test", "rep": "o1"}        # ft lacks o2
    assert S.model_name("tb", "a", 1) == "tb/a/s1"
    figs = S.figures(s)
    assert "fig03a_er_full_ft" in figs and "fig03b_er_head" not in figs and "fig01a_er_definition" not in figs
    assert figs["fig04a_maxer_vs_size"] == (("sweeps",), "size")
    t = S.targets(s, "T", "F", "C")
    assert "F/testbed/fig02ab_testbed_fit.pdf" in t and "C/robustness.csv" in t and "T/testbed/table3_fit_params.csv" in t

    def broken(path, value):
        cfg = json.loads(json.dumps(CONFIG))
        node = cfg["papers"]["robustness"]
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value
        return cfg

    with pytest.raises(S.SettingsError, match="testbed\\[0\\].experiment"):
        S.settings(broken(["testbed"], [{"experiment": "nope"}]))
    with pytest.raises(S.SettingsError, match="does not evaluate"):
        S.settings(broken(["testbed"], [{"experiment": "ft"}]))     # ft has no o2
    with pytest.raises(S.SettingsError, match="sweeps.size.runs"):
        S.settings(broken(["sweeps"], {"size": {"runs": {"ghost": 1}}}))
    with pytest.raises(S.SettingsError, match="missing"):
        S.settings({"experiments": {}, "papers": {}})
    assert S.imported_spec({"imported": {"x": "/p"}}, "x") == {"path": "/p", "id": "id", "ood": None,
                                                                "others": [], "num_classes": None}


def test_settings_interventions_and_phaseout_designs():
    cfg = json.loads(json.dumps(CONFIG))
    rb = cfg["papers"]["robustness"]
    rb["difficulty"] = {"scores_from": {"experiment": "tb", "eval_set": "test"}, "per_class": 1,
                        "phaseout": {"epochs": 3, "final": [4], "designs": {"ft": 4}}}
    rb["sweeps"] = {"replay": {"runs": {"pre": 0}}, "l2_init": {"runs": {"pre": 0}},
                    "phaseout_random": {"runs": {"pre": 1}}}
    figs = S.figures(S.settings(cfg))
    assert figs["fig22_replay"][0] == ("binned", "model_er", "sweeps", "accuracies")
    assert "fig23_classmap_l2" in figs and "fig19_phaseout" in figs
    for change, match in (({"ft": 5}, "not one of the schedules"), ({"ghost": 4}, "unknown experiment")):
        rb["difficulty"]["phaseout"]["designs"] = change
        with pytest.raises(S.SettingsError, match=match):
            S.settings(cfg)
    rb["difficulty"]["phaseout"]["designs"] = {"ft": 4}
    cfg["experiments"]["ft"]["design"] = {"kind": "random_subset", "size": 2, "seeds": 3}
    with pytest.raises(S.SettingsError, match="kind 'full'"):
        S.settings(cfg)


# ------------------------------------------------------------------------ testbed, import, fit

LAB = np.array([0, 1, 2, 3] * 5)                     # 20 ID / OOD examples, 4 classes
IDS = np.arange(100, 120)


def _testbed_files(tmp_path, n_models=5):
    """Models of rising accuracy; model m is right on the first 3m+3 ID and 3m+1 OOD examples."""
    files = {}
    for m in range(n_models):
        cid = np.arange(20) < 3 * m + 3
        cood = np.arange(20) < 3 * m + 1
        path = tmp_path / f"m{m}.h5"
        _logits_h5(path, {"test": (LAB, np.stack([_pred_with(LAB, np.zeros(20, bool)), _pred_with(LAB, cid)]), IDS),
                          "o1": (LAB, np.stack([_pred_with(LAB, cood)] * 2), IDS)}, steps=[0, 10])
        files[f"tb/a/s{m}"] = str(path)
    return files


def test_testbed_writer_and_fit_tables(tmp_path):
    files = _testbed_files(tmp_path)
    s = {"alpha": 0.05, "clip": True, "scaling": "logit"}
    P.write_testbed(files, {"id": "test", "rep": "o1"}, tmp_path / "p.h5", tmp_path / "acc.csv", s,
                    config={"x": 1})
    acc = read_csv(tmp_path / "acc.csv")
    assert list(acc["id_k"]) == [3, 6, 9, 12, 15]                      # final eval point
    assert list(acc["rep_k"]) == [1, 4, 7, 10, 13]
    assert (acc["id_lo"] <= acc["id_acc"]).all() and (acc["id_acc"] <= acc["id_hi"]).all()
    assert list(acc["experiment"]) == ["tb"] * 5 and list(acc["seed"].astype(int)) == list(range(5))
    assert set(read_csv_provenance(tmp_path / "acc.csv")["inputs_sha256"]) == set(files.values())
    assert P.read_roles(tmp_path / "p.h5") == {m: "testbed" for m in files}

    out = {k: tmp_path / f"{k}.csv" for k in ("table2", "table3", "fits", "model_er")}
    P.write_fit(tmp_path / "p.h5", out, s)
    t2, t3, me = read_csv(out["table2"]), read_csv(out["table3"]), read_csv(out["model_er"])
    assert list(t2["scaling"]) == ["linear", "probit", "logit"]
    assert t2["paper_cifar10_cifar10.1"].tolist() == [0.981, 0.996, 0.998]
    meas = t3[t3["source"] == "measured"].iloc[0]
    x = np.clip(np.array([3, 6, 9, 12, 15]) / 20, 1 / 40, 1 - 1 / 40)
    y = np.clip(np.array([1, 4, 7, 10, 13]) / 20, 1 / 40, 1 - 1 / 40)
    lx, ly = np.log(x / (1 - x)), np.log(y / (1 - y))
    A, B = np.polyfit(lx, ly, 1)
    assert meas["A"] == pytest.approx(A) and meas["B"] == pytest.approx(B)
    assert set(t3["source"]) == {"measured", "paper"}
    fit = P.load_fits(out["fits"])["rep"]
    assert fit.A == pytest.approx(A)
    np.testing.assert_allclose(me["er"], me["acc_ood"] - baseline(me["acc_id"], fit), atol=1e-12)
    np.testing.assert_allclose(me["er_hi"] - me["er_lo"], me["ood_hi"] - me["ood_lo"], atol=1e-12)


def test_import_writer_json_and_npy(tmp_path):
    root = tmp_path / "pub"
    (root / "labels").mkdir(parents=True)
    (root / "labels" / "val.json").write_text(json.dumps(LAB.tolist()))
    np.save(root / "labels" / "v2.npy", LAB)
    for m in range(4):
        (root / f"net{m}").mkdir()
        (root / f"net{m}" / "val.json").write_text(json.dumps(_pred_with(LAB, np.arange(20) < 4 * m + 4).tolist()))
        np.save(root / f"net{m}" / "v2.npy", _onehot_logits(_pred_with(LAB, np.arange(20) < 4 * m + 2), 4).astype(np.float32))
    spec = {"path": str(root), "id": "val", "ood": {"rep": "v2"}, "others": ["net3"], "num_classes": 4}
    P.write_import(root, spec, tmp_path / "imp.h5", tmp_path / "imp.csv", {"alpha": 0.05})
    roles = P.read_roles(tmp_path / "imp.h5")
    assert roles == {"net0": "testbed", "net1": "testbed", "net2": "testbed", "net3": "other"}
    acc = read_csv(tmp_path / "imp.csv")
    assert list(acc["id_k"]) == [4, 8, 12, 16] and list(acc["rep_k"]) == [2, 6, 10, 14]
    out = {k: tmp_path / f"{k}.csv" for k in ("table2", "table3", "fits", "model_er")}
    P.write_fit(tmp_path / "imp.h5", out, {"alpha": 0.05, "clip": True, "scaling": "logit"})
    assert int(read_csv(out["table3"]).iloc[0]["n_models"]) == 3          # "others" stay out of the fit
    assert set(read_csv(out["model_er"])["role"]) == {"testbed", "other"}
    # a bare path: id = "id" -> missing
    with pytest.raises(FileNotFoundError):
        P.write_import(root, S.imported_spec({"imported": {"x": str(root)}}, "x"), tmp_path / "a.h5",
                       tmp_path / "a.csv", {"alpha": 0.05})
    with pytest.raises(ValueError, match="unknown models"):
        P.write_import(root, {**spec, "others": ["ghost"]}, tmp_path / "b.h5", tmp_path / "b.csv", {"alpha": 0.05})


# ------------------------------------------------------------------------------------ ER tables

def _acc_table():
    """Run 'pre': 2 seeds x 4 eval points with known ID / rep accuracies; 'rand' 2 seeds."""
    rows = []
    curves = {"pre": {0: ([0.1, 0.5, 0.7, 0.8], [0.1, 0.5, 0.6, 0.65]),
                      1: ([0.1, 0.55, 0.72, 0.82], [0.1, 0.5, 0.62, 0.66])},
              "rand": {0: ([0.1, 0.4, 0.6, 0.7], [0.1, 0.3, 0.45, 0.55]),
                       1: ([0.1, 0.42, 0.62, 0.72], [0.1, 0.31, 0.47, 0.56])}}
    for run, seeds in curves.items():
        for seed, (ids, reps) in seeds.items():
            for k, (a, b) in enumerate(zip(ids, reps)):
                rows += [{"run": run, "experiment": run, "arch": "a", "seed": seed, "eval_index": k, "step": 10 * k,
                          "epoch": float(k), "set": "id", "acc": a},
                         {"run": run, "experiment": run, "arch": "a", "seed": seed, "eval_index": k, "step": 10 * k,
                          "epoch": float(k), "set": "rep", "acc": b}]
    return pd.DataFrame(rows)


SETTINGS = S.DEFAULTS | {
    "id_set": "test", "ood_sets": {"rep": "o1"}, "bins": 4,
    "runs": {"pre": {"experiment": "pre", "arch": "a", "init": "pretrained", "mode": "full"},
             "rand": {"experiment": "rand", "arch": "a", "init": "random", "mode": "full"}},
    "main": {"full": ["pre"], "head": [], "random": ["rand"]},
    "sweeps": {"size": {"label": "images", "runs": {"rand": 1, "pre": 2}}},
}
FIT = LinearFit.from_constants(0.8318, -0.4736)


def test_er_tables_points_binning_max_and_sweeps():
    tb = pd.DataFrame({"model": ["lo", "hi"], "role": "testbed", "ood_set": "rep", "acc_id": [0.3, 0.9],
                       "acc_ood": [0.2, 0.8]})
    t = P.er_tables(_acc_table(), {"rep": FIT}, SETTINGS, tb)
    pts = t["points"]
    assert len(pts) == 16 and pts["used"].sum() == 12                     # epoch 0 excluded
    np.testing.assert_allclose(pts["er"], pts["acc_ood"] - baseline(pts["acc_id"], FIT))
    np.testing.assert_allclose(pts["gap"], pts["acc_id"] - baseline(pts["acc_id"], FIT))
    b = t["binned"]
    assert set(b["metric"]) == {"er", "acc_ood", "er_frac_gap"}
    assert b[(b["run"] == "pre") & (b["metric"] == "er")]["count"].sum() == 6
    m = t["max_er"].set_index("run")
    used = pts[(pts["run"] == "pre") & pts["used"]]
    assert m.loc["pre", "n_runs"] == 2 and m.loc["pre", "init"] == "pretrained"
    be = b[(b["run"] == "pre") & (b["metric"] == "er") & (b["count"] >= 2)]
    assert m.loc["pre", "max_binned"] == pytest.approx(be["mean"].max())
    final = used.groupby("seed").apply(lambda g: g.loc[g["eval_index"].idxmax(), "er"], include_groups=False)
    assert m.loc["pre", "final_er_mean"] == pytest.approx(final.mean())
    assert m.loc["pre", "decay"] == pytest.approx(m.loc["pre", "max_binned"] - final.mean())
    assert m.loc["pre", "final_acc_id_mean"] == pytest.approx(0.81)
    sw = t["sweeps"]
    assert list(sw["run"]) == ["rand", "pre"] and list(sw["order"]) == [0, 1] and set(sw["axis"]) == {"images"}
    g = t["gap_reference"]
    assert g["peak_gap"].iloc[0] == pytest.approx(0.1426, abs=2e-4)        # spec §3.2: 14.26 pp at 0.716
    assert g["crossover"].iloc[0] == pytest.approx(0.0565, abs=5e-4)
    mx = t["mixed_classifier"]
    assert list(mx[["model_lo", "model_hi"]].iloc[0]) == ["lo", "hi"]
    assert mx["acc_id"].iloc[0] == pytest.approx(0.9) and mx["acc_id"].iloc[-1] == pytest.approx(0.3)


def test_special_checkpoints_pick_max_er_after_epoch0():
    t = P.special_checkpoints_table(_acc_table(), {"rep": FIT}, ["pre"], 0, "rep", SETTINGS)
    er = np.array([0.5, 0.6, 0.65]) - baseline([0.5, 0.7, 0.8], FIT)
    mx = t[t["kind"] == "max_er"].iloc[0]
    assert mx["eval_index"] == 1 + int(np.argmax(er)) and mx["model"] == "pre@max_er"
    assert mx["er_rep"] == pytest.approx(er.max())
    assert t[t["kind"] == "converged"].iloc[0]["eval_index"] == 3


# -------------------------------------------------------------------------- per-example tables

def test_per_example_tables_roles_dominance_unique():
    labels = np.array([0, 1, 2, 3, 0, 1, 2, 3])
    C = np.array([[1, 1, 0, 0, 0, 0, 0, 0],          # testbed
                  [1, 1, 1, 0, 0, 0, 0, 0],
                  [0, 1, 1, 1, 0, 0, 0, 0],
                  [0, 0, 0, 1, 1, 1, 0, 0]], bool)    # special: right on S = {4, 5}
    sets = {"id": EvalSet(labels, _pred_with(np.tile(labels, (4, 1)), C)),
            "rep": EvalSet(labels, _pred_with(np.tile(labels, (4, 1)), C)),
            "style": EvalSet(labels[::-1], _pred_with(np.tile(labels[::-1], (4, 1)), C))}   # other examples
    preds = Predictions(["t0", "t1", "t2", "sp"], sets)
    roles = {"t0": "testbed", "t1": "testbed", "t2": "testbed", "sp": "special"}
    t = P.per_example_tables(preds, roles, S.DEFAULTS)
    pe = P.testbed_examples(preds, roles)
    assert pe["n_correct"].tolist() == [2, 3, 2, 1, 0, 0, 0, 0]          # testbed models only
    assert pe["unique_model"].tolist() == ["", "", "", "t2", "", "", "", ""]
    assert pe["n_correct_rep"].tolist() == pe["n_correct"].tolist()
    assert not any(c.endswith("_style") for c in pe.columns)               # not the ID examples
    uc = t["unique_correct"].set_index("model")
    assert uc.loc["sp", "set_size"] == 4 and uc.loc["sp", "n_correct"] == 2 and uc.loc["sp", "acc_S"] == 0.5
    assert uc.loc["t0", "set_size"] == 4 and uc.loc["t0", "n_correct"] == 0     # S_-t0 = {4..7}
    assert uc.loc["t2", "set_size"] == 5 and uc.loc["t2", "n_correct"] == 1     # S_-t2 = {3..7}
    assert uc.loc["t2", "acc_S"] == pytest.approx(0.2) and uc.loc["sp", "chance"] == 0.25
    ex = t["unique_correct_examples"]
    assert list(ex["index"]) == [4, 5] and list(ex["label"]) == [0, 1]
    pairs = t["dominance_pairs"]
    assert set(pairs[pairs["special"] != ""]["special"]) == {"sp"}
    r = pairs[(pairs["model_lo"] == "sp") | (pairs["model_hi"] == "sp")]
    assert len(r) == 3
    mat = t["dominance_matrix"]
    assert list(mat.columns[:3]) == ["model", "role", "acc_id"] and mat["acc_id"].is_monotonic_increasing
    assert t["triplets"]["reading"].iloc[0].startswith("uncertain")
    assert dominance_excess(pairs, "sp", 0.05) == pytest.approx(
        np.mean([d - pairs[(pairs["special"] == "") & ((pairs["acc_diff"] - a).abs() <= 0.05)]["dp"].median()
                 for d, a in zip(r["dp"], r["acc_diff"])]))


# ------------------------------------------------------------------------ difficulty, zero-shot

def _pool(tmp_path):
    n = 16
    labels = np.repeat([0, 1], 8)
    ds = ImageDataset("pool", np.zeros((n + 4, 1, 4, 4), np.uint8), np.concatenate([labels, [0, 1, 0, 1]]),
                      np.arange(n + 4) + 500, np.array([0] * n + [1] * 4, np.uint8), 2)
    write_dataset(ds, tmp_path / "pool.h5")
    return ds


def test_cscore_from_held_out_runs_and_difficulty_design(tmp_path):
    ds = _pool(tmp_path)
    pool_ids = ds.ids[:16]
    mask = np.zeros((2, 16), bool)
    mask[0, :8] = True                    # run 0 holds out 8..15, run 1 holds out 0..7
    mask[1, 8:] = True
    with h5py.File(tmp_path / "design.h5", "w") as f:
        f["train_mask"], f["pool_ids"], f["pool_labels"] = mask, pool_ids, ds.labels[:16]
        f["pool_rows"], f["run_seeds"] = np.arange(16), np.array([1, 2])
    right = np.arange(16) % 4 != 0                     # held-out correctness: wrong on every 4th
    for seed in range(2):
        pred = _pred_with(ds.labels[:16], right, 2)
        perm = np.arange(16)[::-1]                     # stored in another order: aligned by id
        _logits_h5(tmp_path / f"r{seed}.h5", {"train": (ds.labels[:16][perm], pred[perm][None], pool_ids[perm])},
                   steps=[5])
    cs = P.cscore_from_runs(tmp_path / "design.h5", [(0, tmp_path / "r0.h5"), (1, tmp_path / "r1.h5")], "train",
                            statistic="correct")
    assert list(cs["id"]) == list(pool_ids) and (cs["n_heldout"] == 1).all()
    np.testing.assert_array_equal(cs["cscore"], right.astype(float))
    assert cs["cscore_probability"].between(0, 1).all()
    s = {"difficulty": {"scores_from": {"experiment": "x", "eval_set": "train"}, "statistic": "correct",
                        "per_class": 2, "phaseout": {"epochs": 3, "final": [4]}}}
    outs = {k: tmp_path / f"{k}.csv" for k in ("cscore", "subsets", "phaseout")}
    P.write_cscore(tmp_path / "design.h5", [(0, tmp_path / "r0.h5"), (1, tmp_path / "r1.h5")], outs, s)
    sub = read_csv(outs["subsets"])
    hard = sub[sub["subset"] == "hard"]
    assert sorted(hard["id"]) == sorted(pool_ids[[0, 4, 8, 12]])          # the four held-out misses
    assert (sub[sub["subset"] == "easy"]["cscore"] == 1).all()
    assert list(read_csv(outs["phaseout"])["size"]) == [16, 10, 4]
    spec = {"dataset": "pool", "design": {"kind": "random_subset", "size": 4, "seeds": 3}}
    P.write_difficulty_design(outs["subsets"], tmp_path / "pool.h5", "exp_hard", spec, "hard", tmp_path / "d.h5")
    d = read_design(tmp_path / "d.h5")
    assert d["train_mask"].shape == (3, 16) and (d["train_mask"].sum(1) == 4).all()
    assert sorted(d["pool_ids"][d["train_mask"][0]]) == sorted(pool_ids[[0, 4, 8, 12]])
    assert len(set(d["run_seeds"].tolist())) == 3


def test_phaseout_examples_table_and_design(tmp_path):
    """The per-example schedule (each example's last kept epoch) rebuilds phaseout.csv's sizes; the
    design of a phase-out experiment trains every seed on the whole pool with that epoch mask."""
    from pointwise.train.epochs import read_epoch_mask
    ds = _pool(tmp_path)
    pool_ids = ds.ids[:16]
    mask = np.zeros((2, 16), bool)
    mask[0, :8] = True
    mask[1, 8:] = True
    with h5py.File(tmp_path / "design.h5", "w") as f:
        f["train_mask"], f["pool_ids"], f["pool_labels"] = mask, pool_ids, ds.labels[:16]
        f["pool_rows"], f["run_seeds"] = np.arange(16), np.array([1, 2])
    prob = np.linspace(0.05, 0.95, 16)                  # held-out probability rises with the index
    for seed in range(2):
        z = np.log(np.stack([np.where(ds.labels[:16] == 0, prob, 1 - prob),
                             np.where(ds.labels[:16] == 1, prob, 1 - prob)], 1))
        with h5py.File(tmp_path / f"r{seed}.h5", "w") as f:
            g = f.create_group("train")
            g["logits"], g["labels"], g["ids"] = z[None].astype(np.float32), ds.labels[:16], pool_ids
    s = {"difficulty": {"scores_from": {"experiment": "x", "eval_set": "train"}, "per_class": 2,
                        "phaseout": {"epochs": 3, "final": [4, 8]}}}
    outs = {k: tmp_path / f"{k}.csv" for k in ("cscore", "subsets", "phaseout", "phaseout_examples")}
    P.write_cscore(tmp_path / "design.h5", [(0, tmp_path / "r0.h5"), (1, tmp_path / "r1.h5")], outs, s)
    ex, ph = read_csv(outs["phaseout_examples"]), read_csv(outs["phaseout"])
    four = ex[ex["n_final"] == 4].set_index("id")
    # per class (8 each): 8, 5, 2 kept; the lowest scores (hardest: lowest index) stay longest
    assert four.loc[pool_ids[[0, 1, 8, 9]], "last_epoch"].tolist() == [2, 2, 2, 2]
    assert four.loc[pool_ids[[5, 7, 13, 15]], "last_epoch"].tolist() == [0, 0, 0, 0]
    for n_final, g in ph.groupby("n_final"):
        e = ex[ex["n_final"] == n_final]
        assert [int((e["last_epoch"] >= k).sum()) for k in range(3)] == g["size"].tolist()
    spec = {"dataset": "pool", "design": {"kind": "full", "seeds": 3}}
    P.write_phaseout_design(outs["phaseout_examples"], outs["phaseout"], tmp_path / "pool.h5", "po", spec, 4,
                            tmp_path / "po.h5")
    d, m = read_design(tmp_path / "po.h5"), read_epoch_mask(tmp_path / "po.h5")
    assert d["train_mask"].shape == (3, 16) and d["train_mask"].all()
    assert m.shape == (3, 16) and m.sum(1).tolist() == [16, 10, 4]
    assert sorted(d["pool_ids"][m[2]]) == sorted(pool_ids[[0, 1, 8, 9]])
    with pytest.raises(ValueError, match="no phase-out schedule"):
        P.write_phaseout_design(outs["phaseout_examples"], outs["phaseout"], tmp_path / "pool.h5", "po", spec, 5,
                                tmp_path / "bad.h5")
    bad = ph.copy()
    bad.loc[bad.index[1], "size"] += 1
    with pytest.raises(ValueError, match="holds"):
        P.phaseout_epoch_mask(ex, bad, 4, pool_ids)


def test_zeroshot_tables_aggregations(tmp_path):
    labels = np.array([0, 1, 0, 1])
    # 4 pretraining classes; target 0 <- {0, 1}, target 1 <- {2, 3}
    z = np.log(np.array([[0.5, 0.1, 0.3, 0.1],       # max -> 0, sum -> 0 (right)
                         [0.1, 0.1, 0.7, 0.1],       # max -> 1, sum -> 1 (right)
                         [0.3, 0.3, 0.4, 0.0],       # max -> 1 (wrong), sum -> 0 (right)
                         [0.2, 0.2, 0.3, 0.3]]) + 1e-9)   # max -> 1, sum -> 1 (right)
    with h5py.File(tmp_path / "pre.h5", "w") as f:
        for name in ("test", "o1"):
            g = f.create_group(name)
            g["logits"], g["labels"], g["ids"] = z[None].astype(np.float32), labels, np.arange(4)
    spec = {"z": {"experiment": "pre", "arch": "a", "class_map": [[0, 1], [2, 3]]}}
    table, preds = P.zeroshot_tables({"z": tmp_path / "pre.h5"}, spec, {"id": "test", "rep": "o1"}, {"rep": FIT})
    t = table.set_index("agg")
    assert t.loc["max", "acc_id"] == 0.75 and t.loc["sum", "acc_id"] == 1.0
    assert t.loc["mean", "acc_id"] == t.loc["sum", "acc_id"]
    assert t.loc["max", "er_rep"] == pytest.approx(0.75 - float(baseline(0.75, FIT)))
    assert preds.models == ["zeroshot:z"] and list(preds.sets["id"].pred[0]) == [0, 1, 1, 1]


# ---------------------------------------------------------------------------------- claims

def test_claims_measure_and_report_missing_data():
    pre_max = {"run": "pre", "ood_set": "rep", "max_binned": 0.03, "final_er_mean": 0.005, "final_er_std": 0.002,
               "decay": 0.025, "frac_gap_spearman": -0.8, "max_acc_id": 0.9, "final_acc_id_mean": 0.88}
    rand_max = {"run": "rand", "ood_set": "rep", "max_binned": 0.004, "final_er_mean": 0.0, "final_er_std": 0.0,
                "decay": 0.004, "frac_gap_spearman": 0.1, "max_acc_id": 0.85, "final_acc_id_mean": 0.85}
    sweeps = pd.DataFrame([{"sweep": "size", "ood_set": "rep", "order": 0, "value": 10, "max_binned": 0.01,
                            "final_acc_id_mean": 0.8},
                           {"sweep": "size", "ood_set": "rep", "order": 1, "value": 100, "max_binned": 0.03,
                            "final_acc_id_mean": 0.8}])
    g = pd.DataFrame({"ood_set": "rep", "acc_id": np.linspace(0.005, 0.995, 199)})
    g["nogap_er"] = g["acc_id"] - baseline(g["acc_id"], FIT)
    g["peak_gap"], g["peak_acc"] = 0.1426, 0.716
    t = {"table2": pd.DataFrame({"scaling": ["linear", "probit", "logit"], "rep": [0.97, 0.98, 0.99]}),
         "max_er": pd.DataFrame([pre_max, rand_max]), "sweeps": sweeps, "gap_reference": g,
         "dominance_pairs": pd.DataFrame(columns=["model_lo", "model_hi", "role_lo", "role_hi", "acc_diff", "dp"]),
         "unique_correct": pd.DataFrame(columns=["model", "role", "acc_id", "acc_S"]),
         "special_models": pd.DataFrame(columns=["model", "kind"]),
         "triplets": pd.DataFrame([{"ood_set": "rep", "frac_inside": 0.999}])}
    claims = {c.claim: c for c in robustness_claims(t, SETTINGS)}
    assert claims["C1a"].result == "PASS" and claims["C1b"].measured == pytest.approx(0.01)
    assert claims["C2"].result == "PASS" and claims["C2"].measured == pytest.approx(0.4)
    assert claims["C3a"].result == "PASS" and claims["C3a"].measured == pytest.approx(3.0)
    assert claims["C3b"].measured == pytest.approx(2.5) and claims["C3c"].result == "PASS"
    assert claims["C4a"].result == "PASS"
    assert claims["C4b"].measured == pytest.approx(100 * (0.1426 - float(0.9 - baseline(0.9, FIT))), abs=0.01)
    assert claims["C5a"].result == "PASS" and claims["C5a"].measured == pytest.approx(1.0)
    for missing in ("C5b", "C5c", "C6", "C7a", "C8a", "C9a", "C10a", "C11a", "C12"):
        assert claims[missing].result == "NO DATA", missing
    assert claims["C13"].result == "PASS"
    assert "C3d" not in claims                               # one OOD role only


def test_intervention_claims_compare_er_at_the_highest_common_accuracy():
    from pointwise.robustness.claims import intervention_claims
    curves = {"pre": ([0.5, 0.7, 0.9], [0.02, 0.015, 0.005]),
              "rep1": ([0.5, 0.7, 0.88], [0.02, 0.02, 0.012]),
              "rep4": ([0.5, 0.95], [0.01, 0.03]),
              "head": ([0.6, 0.8], [0.01, 0.0]), "cm": ([0.6, 0.7], [0.0, 0.004]),
              "full": ([0.6, 0.9], [0.02, 0.0]), "po": ([0.5, 0.6], [0.01, 0.015])}
    binned = pd.DataFrame([{"run": r, "ood_set": "rep", "metric": "er", "centre": x, "mean": y, "count": 2}
                           for r, (xs, ys) in curves.items() for x, y in zip(xs, ys)]
                          + [{"run": "rep1", "ood_set": "rep", "metric": "er", "centre": 0.99, "mean": 0.1,
                              "count": 1}])                                      # a single point: ignored
    max_er = pd.DataFrame([{"run": r, "ood_set": "rep", "final_acc_id_mean": xs[-1]} for r, (xs, _) in curves.items()])
    settings = {"sweeps": {"replay": {"runs": {"pre": 0, "rep1": 1, "rep4": 4}},
                           "classmap": {"runs": {"head": "new head", "cm": "class-mapped"}},
                           "phaseout": {"runs": {"full": 200, "po": 20}}}}
    acc = pd.DataFrame([{"run": r, "seed": sd, "eval_index": k, "set": "source", "acc": v}
                        for r, (a0, a1) in {"pre": (0.8, 0.4), "rep1": (0.8, 0.7), "rep4": (0.8, 0.75)}.items()
                        for sd in (0, 1) for k, v in ((0, a0), (1, 0.6), (2, a1))])
    c = {x.claim: x for x in intervention_claims(binned, max_er, settings, "rep", 1.0, acc)}
    # rep1 at 0.88: 1.2 - 0.6 pp; rep4 at 0.9 (pre's top): 2.78 - 0.5 pp
    assert c["C12a"].measured == pytest.approx(100 * (0.01 + 0.02 * 0.4 / 0.45 - 0.005)) and c["C12a"].result == "FAIL"
    assert "rep1 (replay 1) at ID 88.0%: ER 1.20 pp vs pre 0.60 pp" in c["C12a"].note
    assert c["C12b"].measured == pytest.approx(-0.1) and c["C12b"].result == "PASS"
    assert c["C12c"].result == "NO DATA" and "l2_init" in c["C12c"].note
    # the phase-out stops at 60%: compared there, not at the base's 90%
    assert c["C12d"].measured == pytest.approx(-0.5) and "final ID 60.0% vs 90.0%" in c["C12d"].note
    assert c["C12"].measured == pytest.approx(c["C12a"].measured) and "C12c" in c["C12"].note
    assert c["C12e"].measured == pytest.approx(30.0) and c["C12e"].result == "PASS"   # min(70, 75) - 40 pp
    none = {x.claim: x for x in intervention_claims(binned, max_er, {"sweeps": {}}, "rep", 1.0, None)}
    assert all(x.result == "NO DATA" for x in none.values())


# ---------------------------------------------------------------------------------- figures

def test_every_figure_function_draws(tmp_path):
    from pointwise.figures.robustness import draw
    tb = pd.DataFrame({"model": [f"t{i}" for i in range(4)], "role": "testbed", "ood_set": "rep",
                       "acc_id": [0.3, 0.5, 0.7, 0.9], "id_lo": [0.25, 0.45, 0.65, 0.85],
                       "id_hi": [0.35, 0.55, 0.75, 0.95], "acc_ood": [0.2, 0.4, 0.6, 0.8]})
    tb["ood_lo"], tb["ood_hi"] = tb["acc_ood"] - 0.05, tb["acc_ood"] + 0.05
    tb["beta"] = baseline(tb["acc_id"], FIT)
    tb["er"], tb["er_lo"], tb["er_hi"] = tb["acc_ood"] - tb["beta"], tb["ood_lo"] - tb["beta"], tb["ood_hi"] - tb["beta"]
    acc = _acc_table()
    t = P.er_tables(acc, {"rep": FIT}, SETTINGS, tb)
    fits = pd.DataFrame([{"ood_set": "rep", **FIT.to_dict()}])
    special = pd.DataFrame([{"model": "pre@max_er", "kind": "max_er", "acc_id": 0.7, "acc_rep": 0.62}])
    pairs = pd.DataFrame({"model_lo": ["t0", "t1"], "model_hi": ["t1", "pre@max_er"], "role_lo": "testbed",
                          "role_hi": ["testbed", "special"], "acc_diff": [0.1, 0.2], "dp": [0.05, 0.1],
                          "special": ["", "pre@max_er"]})
    matrix = pd.DataFrame({"model": ["t0", "t1"], "role": ["testbed", "special"], "acc_id": [0.3, 0.5],
                           "t0": [0.0, 0.1], "t1": [0.1, 0.0]})
    uc = pd.DataFrame({"model": ["t0", "sp"], "role": ["testbed", "special"], "acc_id": [0.3, 0.7],
                       "acc_S": [0.1, 0.3], "chance": [0.25, 0.25]})
    zs = pd.DataFrame({"model": "zeroshot:z", "agg": ["max", "mean", "sum"], "er_rep": [0.01, 0.02, 0.02]})
    phase = pd.DataFrame({"n_final": [4, 4], "epoch": [0, 1], "size": [10, 4]})
    trip = pd.DataFrame([{"ood_set": "rep", "frac_inside": 0.9}])
    tripm = pd.DataFrame({"model": ["t0", "sp"], "frac_inside": [0.9, 0.8], "role": ["testbed", "special"]})
    iv = P.er_tables(acc, {"rep": FIT}, SETTINGS | {"sweeps": {
        "replay": {"label": "ratio", "runs": {"rand": 0, "pre": 1}},
        "l2_init": {"label": "lambda", "runs": {"rand": 0, "pre": 1.0}},
        "phaseout": {"label": "last epoch", "runs": {"rand": 16, "pre": 4}}}}, tb)["sweeps"]
    src = acc[acc["set"] == "id"].assign(set="source", acc=lambda d: 1 - d["acc"] / 2)
    tables = {"model_er": tb, "fits": fits, "special": special, "points": t["points"], "binned": t["binned"],
              "max_er": t["max_er"], "sweeps": pd.concat([t["sweeps"], iv]), "gap_reference": t["gap_reference"],
              "zeroshot": zs, "phaseout": phase, "dominance_pairs": pairs, "dominance_matrix": matrix,
              "unique_correct": uc, "triplets": trip, "triplets_models": tripm,
              "accuracies": pd.concat([acc, src])}
    from pointwise.io import write_csv
    paths = {}
    for k, v in tables.items():
        paths[k] = tmp_path / f"{k}.csv"
        write_csv(v, paths[k])
    params = {"roles": ["rep"], "main": SETTINGS["main"]}
    names = list(S.figures(SETTINGS | {"special": ["pre"], "zeroshot": {"z": {}},
                                       "difficulty": {"phaseout": {"final": [4]}}})) + list(S.PSET_FIGURES)
    for extra in ("fig04c_difficulty", "fig04b_maxer_vs_source", "fig16_maxer_vs_arch", "fig17_by_arch", "fig18_by_source",
                  "fig12_lr", "fig11_loss", "fig13_full_vs_last", "fig19_phaseout", "fig22_replay",
                  "fig23_classmap_l2"):
        names.append(extra)
    for name in names:
        pdf = tmp_path / f"{name}.pdf"
        draw(name, paths, pdf, tmp_path / f"{name}.png", {**params, "sweep": "size"})
        assert pdf.stat().st_size > 1000 and (tmp_path / f"{name}.png").stat().st_size > 1000, name
    with pytest.raises(KeyError):
        draw("fig99", paths, tmp_path / "x.pdf", None, params)
