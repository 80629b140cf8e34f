"""FULL ensembles of paper 002 (spec §2, §3.5, §3.7): their tables, the claims that read them, the
config that names them and the margin correlation of Fig 6 / C.28-C.31."""
import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from pointwise.depth.correlation import log_pearson
from pointwise.depth.pipeline import (full_aggregates, full_models, full_of, input_margin_splits,
                                      margin_and_loo_claims, settings)
from pointwise.io import write_csv

# three FULL runs, L = 2; pool examples 10 (label 0), 11 (label 1); test examples 20 (0), 21 (1)
IDS = [10, 11, 20, 21]
SPLIT = [0, 0, 2, 2]
PD = [[0, 2, 1, np.nan], [0, 1, 1, 2], [1, np.nan, 2, 2]]
NET = [[0, 1, 0, 1], [0, 1, 0, 0], [0, 0, 1, 0]]
OUT_MARGIN = [[1.0, 2.0, 3.0, 4.0], [3.0, 2.0, 1.0, 2.0], [2.0, 5.0, 2.0, 3.0]]
IN_MARGIN = [[0.5, np.nan, 1.0, 2.0], [1.5, np.nan, 2.0, 2.0], [1.0, np.nan, 3.0, 5.0]]


def _write_runs(tmp_path, split=SPLIT):
    paths = []
    for r in range(3):
        pdv = np.array(PD[r], float)
        t = pd.DataFrame({"seed_index": r, "example_id": IDS, "split": split, "label": [0, 1, 0, 1],
                          "label_orig": [0, 1, 0, 1], "net_pred": NET[r],
                          "correct": np.array(NET[r]) == [0, 1, 0, 1], "pd": pdv, "pd_defined": ~np.isnan(pdv)})
        for l in range(3):
            t[f"knn_pred_{l}"] = NET[r]
        t["iter_learned"] = 0.0
        t["iter_learned_resc"] = 0.0
        t["output_margin"] = OUT_MARGIN[r]
        t["input_margin"] = IN_MARGIN[r]
        paths.append(tmp_path / f"seed{r}.csv")
        write_csv(t, paths[-1])
    return paths


def test_full_aggregates_by_hand(tmp_path):
    tabs = full_aggregates(_write_runs(tmp_path))
    ex = tabs["per_example"].set_index("example_id")
    np.testing.assert_allclose(ex["mpd_train"].loc[[10, 11]], [1 / 3, 1.5])
    np.testing.assert_allclose(ex["mpd_val"].loc[[20, 21]], [4 / 3, 2.0])          # test occurrences
    assert ex["mpd_val"].loc[[10, 11]].isna().all() and ex["mpd_train"].loc[[20, 21]].isna().all()
    np.testing.assert_array_equal(ex["n_pd_undefined_train"].loc[[10, 11]], [0, 1])
    # test predictions 20: 0, 0, 1 (label 0); 21: 1, 0, 0 (label 1): consensus 0 for both
    np.testing.assert_allclose(ex["cstar"].loc[[20, 21]], [2 / 3, 2 / 3])
    np.testing.assert_allclose(ex["consistency"].loc[[20, 21]], [2 / 3, 1 / 3])
    h = -(2 / 3 * np.log(2 / 3) + 1 / 3 * np.log(1 / 3))
    np.testing.assert_allclose(ex["entropy"].loc[[20, 21]], [h, h])
    np.testing.assert_allclose(ex["output_margin_train"].loc[[10, 11]], [2.0, 3.0])
    np.testing.assert_allclose(ex["output_margin_val"].loc[[20, 21]], [2.0, 3.0])
    np.testing.assert_allclose(ex["input_margin_train"].loc[[10]], [1.0])
    assert np.isnan(ex["input_margin_train"].loc[11])                       # no margin computed
    np.testing.assert_allclose(ex["input_margin_val"].loc[[20, 21]], [2.0, 3.0])
    # PD in one run against the other two runs' predictions, test occurrences with a defined PD:
    # (r0, 20) d=1, others {0, 1}; (r1, 20) d=1, {0, 1}; (r2, 20) d=2, {0, 0};
    # (r1, 21) d=2, {1, 0}; (r2, 21) d=2, {1, 0}. Two disagreeing votes: C* 1/2, entropy ln 2.
    loo = tabs["loo_by_depth"].set_index("depth")
    np.testing.assert_array_equal(loo["count"].loc[[0, 1, 2]], [0, 2, 3])
    np.testing.assert_allclose(loo["mass"].loc[[1, 2]], [0.4, 0.6])
    np.testing.assert_allclose(loo["cstar"].loc[[1, 2]], [0.5, 2 / 3])
    np.testing.assert_allclose(loo["entropy"].loc[[1, 2]], [np.log(2), 2 * np.log(2) / 3])
    assert (loo["n_runs"] == 3).all()
    bd = tabs["by_depth"]
    assert set(bd["split"]) == {"train", "val", "test"}
    assert (bd.drop_duplicates("split").set_index("split")["n_undefined"].loc[["train", "test"]] == [1, 1]).all()


def test_full_aggregates_refuse_held_out_occurrences(tmp_path):
    with pytest.raises(ValueError, match="hold no pool examples out"):
        full_aggregates(_write_runs(tmp_path, split=[0, 1, 2, 2]))


def _config(full_dataset="pool"):
    return {"experiments": {
        "split": {"dataset": "pool", "archs": {"mlp": "r", "cnn": "r"}},
        "split_full": {"dataset": full_dataset, "archs": {"mlp": "r"}},
        "ops": {"dataset": "noisy", "archs": {"mlp_ops": "r"}}},
        "papers": {"depth": {"experiments": ["split"], "full": {"split": "split_full"},
                             "input_margin": ["train", "test"]}}}


def test_full_models_and_where_input_margins_are_computed():
    cfg = _config()
    st = settings(cfg)
    assert full_models(cfg, st) == [("split_full", "mlp")]
    assert full_of(cfg, st, "split", "mlp") == ("split_full", "mlp")
    assert full_of(cfg, st, "split", "cnn") is None                         # no FULL cnn runs
    assert input_margin_splits(cfg, st, "split_full", "mlp") == ["train", "test"]
    assert input_margin_splits(cfg, st, "split", "mlp") == []               # its FULL runs carry them
    assert input_margin_splits(cfg, st, "split", "cnn") == ["train", "test"]  # SPLIT stands in
    assert input_margin_splits(cfg, st, "ops", "mlp_ops") == []             # not a PD model
    cfg["papers"]["depth"].pop("full")
    assert input_margin_splits(cfg, settings(cfg), "split", "mlp") == ["train", "test"]


def test_shared_archs_are_those_of_two_or_more_probed_experiments():
    from pointwise.depth.pipeline import shared_archs

    cfg = _config()
    cfg["experiments"]["other"] = {"dataset": "other", "archs": {"cnn": "r", "vgg": "r"}}
    assert shared_archs(cfg, settings(cfg)) == []                           # one probed experiment
    cfg["papers"]["depth"]["experiments"] = ["split", "other"]
    assert shared_archs(cfg, settings(cfg)) == ["cnn"]                      # mlp, vgg: one each
    cfg["papers"]["depth"]["archs"] = ["mlp", "vgg"]
    assert shared_archs(cfg, settings(cfg)) == []


@pytest.mark.parametrize("full, message", [
    ({"split": "nope"}, "unknown experiment 'nope'"),
    ({"ops": "split_full"}, "is not one of papers.depth.experiments"),
    ({"split": "split"}, "is a SPLIT experiment"),
])
def test_bad_full_settings(full, message):
    cfg = _config()
    cfg["papers"]["depth"]["full"] = full
    with pytest.raises(ValueError, match=message):
        settings(cfg)


def test_full_runs_must_share_the_dataset():
    with pytest.raises(ValueError, match="is on 'pool' but its FULL runs"):
        settings(_config(full_dataset="other"))


def test_log_pearson_closed_form():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    r, n = log_pearson(x, np.exp(1.0 - 2.0 * x))                # log margin exactly linear in x
    assert r == pytest.approx(-1.0) and n == 5
    r, n = log_pearson(x, [np.e, 0.0, np.e ** 3, -1.0, np.e ** 5])  # margins <= 0 left out
    assert r == pytest.approx(1.0) and n == 3
    r, n = log_pearson(x, [np.e, 0.0, np.e ** 3, -1.0, np.nan])     # fewer than 3 points: undefined
    assert n == 2 and np.isnan(r)


def _claims_tables(mpd, margin, loo_cstar):
    ex = pd.DataFrame({"mpd_val": mpd, "output_margin_val": margin, "input_margin_val": margin})
    loo = pd.DataFrame({"depth": [0, 1, 2], "mass": [0.4, 0.4, 0.2], "cstar": loo_cstar,
                        "entropy": [0.1, 0.2, 0.3], "n_runs": 3})
    return {"per_example": ex, "loo_by_depth": loo}


def test_margin_and_loo_claims_read_the_full_ensemble():
    st = {"full": {"split": "split_full"}}
    mpd = np.array([0.0, 1.0, 2.0, 3.0])
    tables = {"split/mlp": _claims_tables(mpd, np.exp(mpd), [0.2, 0.5, 0.9]),          # SPLIT: rising
              "split_full/mlp": _claims_tables(mpd, np.exp(-mpd), [0.9, 0.5, 0.2])}     # FULL: falling
    cl = {c.claim: c for c in margin_and_loo_claims(tables, "split/mlp", st)}
    assert cl["C8"].measured == pytest.approx(-1.0) and cl["C8_input"].measured == pytest.approx(-1.0)
    assert "split_full/mlp, FULL runs" in cl["C8"].statistic
    assert cl["C3_cstar"].measured == pytest.approx(-1.0) and cl["C3_entropy"].measured == pytest.approx(1.0)
    assert cl["C3_cstar"].result == "PASS" and cl["C3_cstar"].note == "3 runs"
    # without a FULL ensemble the SPLIT runs' tables stand in
    cl = {c.claim: c for c in margin_and_loo_claims({"split/mlp": tables["split/mlp"]}, "split/mlp", {"full": {}})}
    assert cl["C8"].measured == pytest.approx(1.0) and cl["C3_cstar"].measured == pytest.approx(1.0)
    assert "standing in for FULL" in cl["C8"].statistic


def test_figC28_panels_report_the_correlations():
    from pointwise.figures.depth import figC28_margins

    mpd = np.array([0.0, 1.0, 2.0, 3.0, np.nan, np.nan])
    ex = pd.DataFrame({"mpd_train": [np.nan] * 4 + [0.0, 1.0], "mpd_val": mpd,
                       "output_margin_train": [np.nan] * 4 + [1.0, 2.0],
                       "output_margin_val": np.exp(-mpd), "input_margin_val": np.exp(mpd)})
    fig = figC28_margins(ex, bins=4, title="t")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[2] == "test: r = -1.00 (n=4)" and titles[3] == "test: r = 1.00 (n=4)"
    assert titles[0] == "training: r = nan (n=2)" and titles[1] == "training: r = nan (n=0)"
