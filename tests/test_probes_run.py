"""run_probes on a tiny trained model: knn.h5 shapes, ids, agreement with an independent k-NN,
the trivial k=1 case and the file's attributes (paper 002 §2.1, spec §3.2, §5.2)."""
import h5py
import numpy as np
import pytest
import torch

import pointwise.config as pwconfig
from pointwise.data.store import read_dataset
from pointwise.depth import prediction_depth, run_table
from pointwise.designs import build_design, read_design
from pointwise.probes.run_probes import load_checkpoint, read_knn, run_probes
from pointwise.train.engine import train_block

CONFIG = {
    "scale": "t", "results": "r",
    "datasets": {"toy": {"source": "synthetic", "n_train": 1, "n_test": 1, "num_classes": 4, "size": 12}},
    "archs": {"mlp": {"family": "mlp", "depth": 2, "width": 16}},
    "recipes": {"q": {"epochs": 30, "batch_size": 16, "optimizer": {"lr": 0.05},
                      "eval": {"per_epoch": 1}}},
    "experiments": {"e": {"dataset": "toy", "design": {"kind": "kfold", "folds": 2, "repeats": 1},
                          "archs": {"mlp": "q"}, "ensemble": 2}},
    "threads": 1, "device": "cpu",
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from conftest import toy_dataset
    from pointwise.data.store import write_dataset
    tmp = tmp_path_factory.mktemp("probes")
    data = tmp / "toy.h5"
    write_dataset(toy_dataset(), data)
    cfg = pwconfig.validate(CONFIG)
    design = tmp / "design.h5"
    build_design("e", cfg["experiments"]["e"], data, design)
    outs = {k: [str(tmp / f"m{m}" / f"{k}.out") for m in (0, 1)] for k in ("ckpt", "logits", "stats")}
    train_block(str(data), str(design), {"train": str(data), "test": str(data)}, outs,
                pwconfig.recipe(cfg, "e", "mlp"), [0, 1], str(tmp / "state"))
    return tmp, data, design, outs


def test_knn_file_shapes_ids_and_attrs(trained):
    tmp, data, design, outs = trained
    out = tmp / "knn.h5"
    summary = run_probes(outs["ckpt"][1], data, design, out, k=5, device="cpu", batch_size=32,
                         return_indices=True, config=CONFIG)
    f = read_knn(out)
    ds, des = read_dataset(data), read_design(design)
    train_rows = np.sort(des["pool_rows"][des["train_mask"][1]])
    n_tr, n_ho, n_te = len(train_rows), int((~des["train_mask"][1]).sum()), int((ds.split == 1).sum())
    n_q = n_tr + n_ho + n_te
    model, pre, _ = load_checkpoint(outs["ckpt"][1])
    L1 = len(model.probe_names)
    assert f["neighbour_labels"].shape == (L1, n_q, 5) and f["neighbour_labels"].dtype == np.uint8
    assert f["knn_pred"].shape == (L1, n_q) and f["knn_pred"].dtype == np.int16
    assert f["neighbour_indices"].shape == (L1, n_q, 5)
    np.testing.assert_array_equal(np.bincount(f["query_split"]), [n_tr, n_ho, n_te])
    np.testing.assert_array_equal(f["query_ids"][:n_tr], ds.ids[train_rows])
    with h5py.File(outs["logits"][1]) as lg:                         # the ids the run trained on
        np.testing.assert_array_equal(np.sort(f["query_ids"][:n_tr]), lg["train_ids"][()])
        final = lg["test"]["logits"][-1].astype(np.float32)
    np.testing.assert_array_equal(f["labels"], ds.labels[f["query_rows"]])
    # the network's predictions are those of the checkpoint (logits.h5 stores fp16 logits)
    assert (f["net_pred"][f["query_split"] == 2] == final.argmax(1)).mean() > 0.95
    with torch.no_grad():
        z = model(pre(torch.from_numpy(ds.images[f["query_rows"]])))
    np.testing.assert_allclose(f["logits"], z.numpy(), rtol=1e-5, atol=1e-5)

    a = f["attrs"]
    assert a["probe_names"] == model.probe_names == ["input", "fc1", "fc2", "softmax"]
    assert a["probe_dims"] == [144, 16, 16, 4]
    assert (a["k"], a["tie"], a["metric"], a["exclude_self"]) == (5, "nearest", "euclidean", True)
    assert a["seed_index"] == 1 and a["split_names"] == ["train", "held_out", "test"]
    for key in ("code_version", "config_hash", "inputs_sha256", "package_versions", "created_utc"):
        assert key in a
    assert a["softmax_disagreement"] == summary["softmax_disagreement"] == \
        int((f["knn_pred"][-1] != f["net_pred"]).sum())
    # training queries never return themselves; neighbours are training examples
    ni = f["neighbour_indices"]
    assert not (ni[:, :n_tr] == np.arange(n_tr)[None, :, None]).any()
    np.testing.assert_array_equal(f["neighbour_labels"], ds.labels[train_rows][ni])
    # PD is computable and mostly defined
    t = run_table(f)
    assert t["pd_defined"].mean() > 0.9 and t["pd"].max() <= L1 - 1


def test_matches_independent_knn_at_a_hidden_layer(trained):
    tmp, data, design, outs = trained
    out = tmp / "knn_fc1.h5"
    run_probes(outs["ckpt"][0], data, design, out, seed=0, k=4, device="cpu", probes=["fc1", "softmax"],
               tie="lowest")
    f = read_knn(out)
    model, pre, _ = load_checkpoint(outs["ckpt"][0])
    ds = read_dataset(data)
    with torch.no_grad():
        _, acts = model.forward_with_probes(pre(torch.from_numpy(ds.images[f["query_rows"]])), ["fc1"])
    E = acts["fc1"].double().numpy()
    n_tr = int((f["query_split"] == 0).sum())
    d = ((E[:, None] - E[None, :n_tr]) ** 2).sum(-1)
    d[np.arange(n_tr), np.arange(n_tr)] = np.inf                     # self-exclusion
    idx = np.argsort(d, axis=1, kind="stable")[:, :4]
    np.testing.assert_array_equal(f["neighbour_labels"][0], f["labels"][:n_tr][idx])
    counts = np.stack([(f["labels"][:n_tr][idx] == c).sum(1) for c in range(4)], 1)
    np.testing.assert_array_equal(f["knn_pred"][0], counts.argmax(1))
    assert f["attrs"]["probe_names"] == ["fc1", "softmax"] and f["attrs"]["tie"] == "lowest"


def test_k1_without_self_exclusion_returns_own_label(trained):
    """k = 1 and no self-exclusion: every training query is its own nearest neighbour at every
    probe, so each probe predicts its given label; PD is then 0 where the network agrees."""
    tmp, data, design, outs = trained
    out = tmp / "knn_k1.h5"
    run_probes(outs["ckpt"][0], data, design, out, seed=0, k=1, exclude_self=False, device="cpu",
               return_indices=True, direct_max_dim=8)
    f = read_knn(out)
    tr = f["query_split"] == 0
    n_tr = int(tr.sum())
    np.testing.assert_array_equal(f["neighbour_indices"][:, tr, 0], np.tile(np.arange(n_tr), (4, 1)))
    np.testing.assert_array_equal(f["knn_pred"][:, tr], np.tile(f["labels"][tr], (4, 1)))
    pdv = prediction_depth(f["knn_pred"][:, tr], f["net_pred"][tr])
    fit = f["net_pred"][tr] == f["labels"][tr]
    assert (pdv[fit] == 0).all() and np.isnan(pdv[~fit]).all()
    assert not f["attrs"]["exclude_self"]


def test_wrong_seed_is_refused(trained):
    tmp, data, design, outs = trained
    with pytest.raises(ValueError, match="seed"):
        run_probes(outs["ckpt"][0], data, design, tmp / "x.h5", seed=1, device="cpu")
    assert not (tmp / "x.h5").exists()


def test_input_margin_of_the_test_queries(trained):
    """``input_margin_splits=['test']``: knn.h5 holds the linearised input margin of the test
    queries in the model's preprocessed input space (spec §3.7), NaN for the other queries."""
    from pointwise.depth import input_margin

    tmp, data, design, outs = trained
    out = tmp / "knn_margin.h5"
    run_probes(outs["ckpt"][0], data, design, out, seed=0, k=3, device="cpu", probes=["fc2", "softmax"],
               input_margin_splits=["test"])
    f = read_knn(out)
    test = f["query_split"] == 2
    assert np.isnan(f["input_margin"][~test]).all() and (f["input_margin"][test] > 0).all()
    assert f["attrs"]["input_margin_splits"] == ["test"]
    model, pre, _ = load_checkpoint(outs["ckpt"][0])
    ds = read_dataset(data)
    x = pre(torch.from_numpy(ds.images[f["query_rows"][test]]))
    np.testing.assert_allclose(f["input_margin"][test], input_margin(model, x, method="jacrev"), rtol=1e-4)
    with pytest.raises(ValueError, match="unknown query splits"):
        run_probes(outs["ckpt"][0], data, design, tmp / "y.h5", seed=0, k=3, device="cpu",
                   input_margin_splits=["validation"])


def test_probe_block_equals_one_call_per_run_and_checks_lengths(trained):
    from pointwise.probes.run_probes import probe_block
    tmp, data, design, outs = trained
    block = [str(tmp / f"block{s}.h5") for s in (0, 1)]
    probe_block(outs["ckpt"], data, design, block, [0, 1], k=3, device="cpu", config=CONFIG)
    for s in (0, 1):
        single = tmp / f"single{s}.h5"
        run_probes(outs["ckpt"][s], data, design, single, s, k=3, device="cpu", config=CONFIG)
        a, b = read_knn(block[s]), read_knn(single)
        np.testing.assert_array_equal(a["neighbour_labels"], b["neighbour_labels"])
        np.testing.assert_array_equal(a["query_ids"], b["query_ids"])
        assert int(a["attrs"]["seed_index"]) == s
    with pytest.raises(ValueError):                                  # one output for two runs
        probe_block(outs["ckpt"], data, design, block[:1], [0, 1], k=3, device="cpu")


def test_as_list_keeps_one_path_whole():
    from pathlib import Path

    from pointwise.io import as_list
    assert as_list("a/b.h5") == ["a/b.h5"]
    assert as_list(Path("a")) == [Path("a")]
    assert as_list(3) == [3]
    assert as_list(("x", "y")) == ["x", "y"]
