"""Paper 003 glue: per-run score tables from the training engine's files, score cubes, ensemble
scores, analysis tables and claims (pointwise.scores.pipeline / analyses / claims)."""
import copy

import h5py
import numpy as np
import pandas as pd
import pytest
import torch
import yaml

import pointwise.config as pwconfig
from pointwise.designs import build_design
from pointwise.io import read_csv, read_csv_provenance
from pointwise.scores import (PER_RUN_SCORES, consistently_learned, ensemble_agreement,
                              forgetting_events, grand_el2n, model_from_checkpoint,
                              snapshot_states, symmetric_kl, trajectory_scores, vog)
from pointwise.scores.analyses import (bias_tables, correlation_tables, ensemble_matrix,
                                       fingerprint_tables, pca1_stability_table, pca_tables,
                                       stability_table, variance_table)
from pointwise.scores.claims import claims
from pointwise.scores.pipeline import (ScoreCube, agr_table, checkpoint_at, complete_presentations,
                                       fit_test_runs, mean_table, read_cube, ret_runs, ret_table,
                                       run_scores, settings, stack_tables, write_block_scores,
                                       write_cube)
from pointwise.train.engine import train_block

from conftest import ROOT

CONFIG = {
    "scale": "t", "results": "r",
    "datasets": {"toy": {"source": "synthetic", "n_train": 1, "n_test": 1, "num_classes": 4, "size": 12}},
    "archs": {"cnn": {"family": "small_cnn", "widths": [4, 8], "norm": "batch"}},
    "recipes": {"s": {"epochs": 3, "batch_size": 32,
                      "optimizer": {"lr": 0.05, "momentum": 0.9, "weight_decay": 1e-4},
                      "schedule": {"kind": "step", "milestones": [0.5, 0.75]},
                      "augment": {"crop_padding": 1}, "eval": {"per_epoch": 1, "at_start": False},
                      "records": "eval_forward", "snapshots": {"epochs": [1, 2]}}},
    "experiments": {"e": {"dataset": "toy", "design": {"kind": "full", "seeds": 2},
                          "archs": {"cnn": "s"}, "ensemble": 2,
                          "eval_sets": {"train": "toy:train"}}},
    "threads": 1, "device": "cpu",
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Two seeds of a tiny CNN trained with per-epoch eval, eval-forward records and snapshots.
    120 examples at batch 32: 3.75 steps per epoch, so the records end with a partial epoch."""
    from conftest import toy_dataset
    from pointwise.data.store import write_dataset

    tmp = tmp_path_factory.mktemp("scores_run")
    data = tmp / "toy.h5"
    write_dataset(toy_dataset(), data)
    cfg = pwconfig.validate(CONFIG)
    design = tmp / "design.h5"
    build_design("e", cfg["experiments"]["e"], data, design)
    outs = {k: [str(tmp / f"m{m}" / f"{k}.out") for m in (0, 1)]
            for k in ("ckpt", "logits", "stats", "snapshots")}
    train_block(str(data), str(design), {"train": str(data)}, outs, pwconfig.recipe(cfg, "e", "cnn"),
                [0, 1], str(tmp / "state"), log_path=str(tmp / "log.txt"))
    return data, outs, tmp


def test_run_scores_matches_the_library_on_the_runs_files(trained):
    data, outs, _ = trained
    table, info = run_scores(str(data), outs["logits"][0], outs["stats"][0], outs["ckpt"][0],
                             outs["snapshots"][0], grad_dtype="float64")
    assert list(table.columns) == ["id", "label", *PER_RUN_SCORES]
    with h5py.File(outs["logits"][0]) as f:
        z, labels, ids = f["train"]["logits"][()], f["train"]["labels"][()], f["train"]["ids"][()]
        rows = f["train"]["rows"][()]
        epochs = f["epochs"][()]
    np.testing.assert_array_equal(table["id"], ids)
    assert len(table) == 120 and (epochs > 0).all()      # every eval point after epoch 0
    ref = trajectory_scores(z, labels)
    for key in ("loss", "acc", "aum"):
        np.testing.assert_allclose(table[key], ref[key])
    with h5py.File(outs["stats"][0]) as f:
        correct, step, s_ids = f["correct"][()], f["step"][()], f["ids"][()]
    assert (step[-1] < 0).any()                 # a partial last epoch exists ...
    complete = (step >= 0).all(axis=1)
    assert info["presentations"] == complete.sum() == 3    # ... and is dropped
    pos = np.searchsorted(s_ids, ids)
    np.testing.assert_array_equal(table["forget"], forgetting_events(correct[complete][:, pos], "toneva"))
    np.testing.assert_array_equal(table["cl"], consistently_learned(correct[complete][:, pos]))
    # GraNd/EL2N at G = grad_epoch(3) = 1: the snapshot nearest epoch 1 (step 4 = epoch 1.07)
    ck = torch.load(outs["ckpt"][0], weights_only=False)
    net, final, pre = model_from_checkpoint(ck)
    snaps = snapshot_states(torch.load(outs["snapshots"][0], weights_only=False))
    assert abs(info["grad_epoch"] - snaps[0][0]) < 1e-6 and abs(snaps[0][0] - 1) < 0.2
    from pointwise.data.store import read_dataset
    x = pre(torch.from_numpy(read_dataset(data).images[rows]))
    g, e = grand_el2n(net, snaps[0][1], x, torch.from_numpy(labels), dtype=torch.float64)
    np.testing.assert_allclose(table["grand20"], g, rtol=1e-6)
    np.testing.assert_allclose(table["el2n20"], e, rtol=1e-6)
    # VoG over every checkpoint at epoch >= 1: both snapshots and the final model
    assert len(info["vog_epochs"]) == 3 and info["vog_epochs"][-1] == pytest.approx(epochs[-1])
    v = vog(net, [snaps[0][1], snaps[1][1], final], x, torch.from_numpy(labels))
    np.testing.assert_allclose(table["vog"], v, rtol=1e-5)
    # explicit epochs, and an epoch without a checkpoint
    t2, i2 = run_scores(str(data), outs["logits"][0], outs["stats"][0], outs["ckpt"][0],
                        outs["snapshots"][0], grad_epoch=2, vog_epochs=[1, 2], grad_dtype="float32")
    assert i2["grad_epoch"] == pytest.approx(snaps[1][0]) and len(i2["vog_epochs"]) == 2
    with pytest.raises(KeyError, match="no checkpoint at epoch 2.5"):
        run_scores(str(data), outs["logits"][0], outs["stats"][0], outs["ckpt"][0],
                   outs["snapshots"][0], grad_epoch=2.5)


def test_write_block_scores_writes_one_table_per_member_with_provenance(trained, tmp_path):
    data, outs, _ = trained
    s = settings({**CONFIG_WITH_PAPERS, "experiments": CONFIG["experiments"]})
    paths = [str(tmp_path / f"m{m}.csv") for m in (0, 1)]
    write_block_scores(str(data), outs["logits"], outs["stats"], outs["ckpt"], outs["snapshots"],
                       paths, s, config=CONFIG, threads=1)
    a, b = read_csv(paths[0]), read_csv(paths[1])
    assert len(a) == len(b) == 120 and not np.allclose(a["loss"], b["loss"])   # two different seeds
    prov = read_csv_provenance(paths[1])
    assert prov["seed"] == 1 and prov["presentations"] == 3 and len(prov["inputs_sha256"]) == 5
    cube = stack_tables([a, b], seeds=[0, 1])
    assert cube.S.shape == (2, 120, 8)
    np.testing.assert_allclose(cube.S[..., 1], -cube.S_raw[..., 1])          # acc: lower = harder


def test_complete_presentations_and_checkpoint_lookup():
    step = np.array([[0, 1], [2, 3], [4, -1]])
    correct = np.array([[1, 0], [1, 1], [0, 0]], bool)
    c, s = complete_presentations(correct, step)
    assert c.shape == (2, 2) and (s >= 0).all()
    with pytest.raises(ValueError, match="follows an incomplete"):
        complete_presentations(correct, np.array([[0, 1], [-1, 3], [4, 5]]))
    with pytest.raises(ValueError, match="no complete"):
        complete_presentations(correct, -np.ones((3, 2), int))
    ck = [(1.05, "a"), (2.1, "b")]
    assert checkpoint_at(ck, 2.0, 0.2)[1] == "b"
    with pytest.raises(KeyError):
        checkpoint_at(ck, 3.0, 0.2)


def test_cube_roundtrip_and_mean_table(tmp_path):
    rng = np.random.default_rng(0)
    tables = [pd.DataFrame({"id": [5, 7, 9], "label": [0, 1, 0],
                            **{k: rng.normal(size=3) for k in PER_RUN_SCORES}}) for _ in range(3)]
    cube = stack_tables(tables, seeds=[0, 1, 2])
    write_cube(cube, tmp_path / "c.h5", {"config_hash": "x"})
    back = read_cube(tmp_path / "c.h5")
    np.testing.assert_array_equal(back.S, cube.S)
    assert back.names == list(PER_RUN_SCORES) and list(back.ids) == [5, 7, 9]
    with h5py.File(tmp_path / "c.h5") as f:
        assert f.attrs["config_hash"] == "x"
        np.testing.assert_array_equal(f["orientation_sign"][()], [1, -1, -1, 1, 1, 1, 1, 1])
    m = mean_table(cube)
    np.testing.assert_allclose(m["aum_mean"], np.mean([t["aum"] for t in tables], axis=0))
    np.testing.assert_allclose(m["loss_std"], np.std([t["loss"] for t in tables], axis=0, ddof=1))
    bad = tables[1].assign(id=[5, 9, 7])
    with pytest.raises(ValueError, match="disagree"):
        stack_tables([tables[0], bad])


def _logits_file(path, z, ids, labels, epochs):
    with h5py.File(path, "w") as f:
        f["epochs"] = np.asarray(epochs, float)
        f["steps"] = (np.asarray(epochs) * 10).astype(int)
        g = f.create_group("train")
        g["logits"] = z.astype(np.float16)
        g["ids"], g["labels"] = ids, labels


def test_agr_and_ret_tables(tmp_path):
    rng = np.random.default_rng(1)
    ids, labels = np.arange(6) + 100, rng.integers(0, 3, 6)
    zs = [rng.normal(size=(4, 6, 3)) for _ in range(3)]
    paths = []
    for k, z in enumerate(zs):
        _logits_file(tmp_path / f"a{k}.h5", z, ids, labels, [0, 1, 2, 3])
        paths.append(str(tmp_path / f"a{k}.h5"))
    t = agr_table(paths)
    z16 = [z.astype(np.float16) for z in zs]
    np.testing.assert_allclose(t["agr"], ensemble_agreement(z16, rows=[1, 2, 3]))       # epoch 0 excluded
    np.testing.assert_allclose(agr_table(paths, final_only=True)["agr"], ensemble_agreement(z16, rows=[3]))
    # RET: a child identical to its parent scores 0; otherwise the symmetric KL of the final outputs
    _logits_file(tmp_path / "c0.h5", zs[0], ids, labels, [0, 1, 2, 3])
    _logits_file(tmp_path / "c1.h5", zs[2], ids, labels, [1])
    r = ret_table([str(tmp_path / "c0.h5"), str(tmp_path / "c1.h5")], [paths[0], paths[1]])
    expect = (0 + symmetric_kl(z16[1][-1].astype(float), z16[2][-1].astype(float))) / 2
    np.testing.assert_allclose(r["ret"], expect)
    _logits_file(tmp_path / "c2.h5", zs[0], ids[::-1], labels, [1])
    with pytest.raises(ValueError, match="same examples"):
        ret_table([str(tmp_path / "c2.h5")], [paths[0]])


CONFIG_WITH_PAPERS = {**CONFIG, "papers": {"scores": {
    "models": {"a": {"experiment": "e", "arch": "cnn"}, "b": {"experiment": "e", "arch": "cnn"}},
    "base": "a", "fingerprint": ["a", "b"], "fit_runs": 1,
    "compare_pairs": {"large": ["a", "b"], "small": ["a", "b"]},
    "agr": {"experiment": "e", "arch": "cnn"}, "ret": {"experiments": ["e"], "arch": "cnn"}}}}


def test_settings_defaults_and_errors():
    s = settings(CONFIG_WITH_PAPERS)
    assert s["k"] == 8 and s["bonferroni"] == {"alpha": 0.01, "m": "n"} and s["grad_epoch"] == "auto"
    assert settings(CONFIG) is None
    bad = copy.deepcopy(CONFIG_WITH_PAPERS)
    bad["papers"]["scores"]["models"]["a"]["arch"] = "vgg"
    with pytest.raises(ValueError, match="papers.scores.models.a"):
        settings(bad)
    bad = copy.deepcopy(CONFIG_WITH_PAPERS)
    bad["papers"]["scores"]["fingerprint"] = ["a", "c"]
    with pytest.raises(ValueError, match="papers.scores.fingerprint"):
        settings(bad)
    with pytest.raises(ValueError, match="init_from"):      # e's recipe has no parent run
        ret_runs(CONFIG_WITH_PAPERS, settings(CONFIG_WITH_PAPERS))
    fit, test = fit_test_runs(5, 2, True)
    assert list(fit) == [0, 1] and list(test) == [2, 3, 4]
    with pytest.raises(ValueError):
        fit_test_runs(2, 2, True)
    with pytest.raises(ValueError):
        fit_test_runs(1, 2, False)


def test_schema_rejects_unknown_scores_keys():
    cfg = yaml.safe_load(open(ROOT / "configs" / "test.yaml"))
    pwconfig.validate(cfg)
    cfg["papers"]["scores"]["bonferoni"] = {"alpha": 0.01}
    with pytest.raises(pwconfig.ConfigError, match="bonferoni"):
        pwconfig.validate(cfg)


def test_paper_config_wires_the_scores_experiments():
    cfg = pwconfig.load(ROOT / "configs" / "paper.yaml")
    s = settings(cfg)
    assert [m["arch"] for m in s["models"].values()] == [
        "cifar_resnet_20", "cifar_resnet_20_64", "cifar_resnet_32", "cifar_vgg_16",
        "cifar_vgg_16_16", "cifar_vgg_11"]
    assert s["fit_runs"] == 20 and s["grad_epoch"] == 20
    parents = {(r["parent_experiment"], r["parent_seed"]) for r in ret_runs(cfg, s)}
    assert parents == {("scores_agr_cifar10", 0), ("scores_agr_cifar10", 1)}


# ----------------------------------------------------------------------------- analyses on a planted world

def planted_world(n=300, seed=0):
    """Six models whose 8 per-run scores all follow one latent difficulty d_i, with run noise
    growing with d; model 'v*' shifts the scores of the first 10 examples (its inductive bias)."""
    rng = np.random.default_rng(seed)
    d = rng.uniform(0, 1, n)
    signs = np.array([1, -1, -1, 1, 1, 1, 1, 1], float)
    cubes = {}
    for m, runs in (("r0", 10), ("r1", 5), ("r2", 5), ("v0", 10), ("v1", 5), ("v2", 5)):
        shift = np.zeros(n)
        if m.startswith("v"):
            shift[:10] = 1.5
        S = (d + shift)[None, :, None] + rng.normal(0, 0.05 + 0.3 * d, (runs, n))[..., None] \
            + rng.normal(0, 0.05, (runs, n, 8))
        cubes[m] = ScoreCube(S, S * signs, list(PER_RUN_SCORES), np.arange(n) + 10,
                             rng.integers(0, 3, n), np.arange(runs))
    agr = pd.DataFrame({"id": np.arange(n)[::-1] + 10, "agr": (d + rng.normal(0, 0.1, n))[::-1]})
    ret = pd.DataFrame({"id": np.arange(n) + 10, "ret": d + rng.normal(0, 0.1, n)})
    return cubes, agr, ret, d


def test_analysis_tables_and_claims_on_a_planted_world():
    cubes, agr, ret, d = planted_world()
    base = cubes["r0"]
    ens = ensemble_matrix(base, agr, ret)
    np.testing.assert_allclose(ens[:, 0], agr.set_index("id").loc[base.ids, "agr"])  # aligned by id
    f2 = variance_table(base, bins=30)
    assert set(f2["score"]) == set(PER_RUN_SCORES) and (f2.groupby("score").size() == 30).all()
    assert (f2.loc[f2["score"] == "acc", "sign"] == -1).all()
    f3 = stability_table(base, [1, 2, 5], reps=4)
    corr = correlation_tables(base, ens)
    pca = pca_tables(base, ens)
    assert pca["explained"]["ratio"].iloc[0] > 0.8
    assert np.corrcoef(pca["examples"]["pc1"], d)[0, 1] > 0.9
    p1 = pca1_stability_table(base, [1, 2, 5], reps=4)
    assert set(p1["score"]) == {"pca1"}
    fam = {"r0": "resnet", "r1": "resnet", "r2": "resnet", "v0": "vgg", "v1": "vgg", "v2": "vgg"}
    params = {"r0": 100, "r1": 400, "r2": 150, "v0": 500, "v1": 50, "v2": 300}
    bias = bias_tables(cubes, 5, params, fam, difficulty=pca["examples"]["pc1"].to_numpy(), k=8)
    assert bias["pvalues"]["neglogp"].shape == (15, 8, 300)
    assert bias["by_pair"]["cross_family"].sum() == 9
    sens = bias["sensitivity"]
    assert set(np.flatnonzero(sens["is_top"])) <= set(range(10))     # the planted examples
    f1, _ = fingerprint_tables(cubes, ["r0", "v0"], 5, sens, k=8, n_random=5)
    top = f1[(f1["selection"] == "top") & (f1["selection_source"] == "select_runs")]
    assert (top["test_acc"] == 1.0).all() and len(top) == 8
    t = {"fig2": f2, "fig3": f3, "corr_mean_mean": corr["mean_mean"],
         "corr_mean_run": corr["mean_run_delta"], "corr_run_run": corr["run_run_delta"],
         "loadings": pca["loadings"], "explained": pca["explained"], "pca1": p1,
         "by_score": bias["by_score"], "by_pair": bias["by_pair"], "capacity": bias["capacity"],
         "fig1": f1, "sensitivity": sens, "examples": pca["examples"]}
    s = {"claim_n": 5, "compare_pairs": {"large": ["r0", "v0"], "small": ["r0", "r2"]}}
    rows = {c.claim: c for c in claims(t, s)}
    for cid in ("Q1a", "Q1b", "Q2a", "Q2b", "Q2c", "Q2d", "Q3a", "Q3b", "Q4", "Q5", "Q6a", "Q6b",
                "Q6c", "Q6d", "Q7", "Q8a", "Q8b", "Q8c", "Q9a", "Q9b", "Q10a", "Q10b", "Q11a",
                "Q11b", "Q11c", "Q11a [all runs]", "Q12"):
        assert cid in rows and rows[cid].result in ("PASS", "FAIL"), cid
    # what the planted world makes true
    for cid in ("Q1a", "Q3a", "Q3b", "Q4", "Q6a", "Q6b", "Q8a", "Q9a", "Q9b", "Q11a", "Q11c"):
        assert rows[cid].result == "PASS", (cid, rows[cid].measured, rows[cid].note)
