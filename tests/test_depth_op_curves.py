"""Paper 002 Fig A.9 (k-NN accuracy after each MLP operation) and Fig E.48 (k-NN against
logistic-regression probes) tables."""
import numpy as np
import pytest
import torch

from pointwise.depth.lr_probes import METHODS, probe_comparison, rows_and_halves
from pointwise.depth.op_curves import COLUMNS, op_curves, probe_kind, run_op_accuracy
from pointwise.models import build_model


def _knn(pred, labels, orig, split, names):
    return {"knn_pred": np.asarray(pred), "labels": np.asarray(labels), "labels_orig": np.asarray(orig),
            "query_split": np.asarray(split, dtype=np.uint8), "attrs": {"probe_names": names}}


NAMES = ["input", "fc1", "relu1", "softmax"]
LAB = [0, 1, 2, 0, 1, 2]
ORIG = [0, 1, 0, 0, 1, 2]          # query 2 is a flipped training example (given 2, original 0)
SPLIT = [0, 0, 0, 1, 2, 2]


def test_run_op_accuracy_by_hand():
    pred = [[0, 1, 0, 0, 1, 0],    # input: the flipped one predicted as its original class
            [0, 1, 2, 0, 1, 2],    # fc1: everything as given
            [0, 0, 2, 1, 1, 1],
            [1, 1, 2, 0, 0, 2]]
    t = run_op_accuracy(_knn(pred, LAB, ORIG, SPLIT, NAMES))
    get = lambda sub, ag: t[(t["subset"] == sub) & (t["against"] == ag)]["knn_accuracy"].tolist()
    assert get("train_clean", "given") == [1.0, 1.0, 0.5, 0.5]
    assert get("train_flipped", "given") == [0.0, 1.0, 1.0, 1.0]
    assert get("train_flipped", "original") == [1.0, 0.0, 0.0, 0.0]
    assert get("held_out", "given") == [1.0, 1.0, 0.0, 1.0]
    assert get("test", "given") == [0.5, 1.0, 0.5, 0.5]
    assert set(t.loc[t["subset"] == "test", "n_queries"]) == {2}


def test_op_curves_mean_and_sd_over_runs_and_depth():
    a = _knn(np.tile(LAB, (4, 1)), LAB, ORIG, SPLIT, NAMES)                     # all right (given)
    b = _knn(np.tile([1, 2, 0, 1, 2, 0], (4, 1)), LAB, ORIG, SPLIT, NAMES)      # all wrong
    names2 = ["input", "fc1", "relu1", "fc2", "relu2", "softmax"]
    c = _knn(np.tile(LAB, (6, 1)), LAB, ORIG, SPLIT, names2)
    t = op_curves({"mlp1": [a, b], "mlp2": [c]})
    assert list(t.columns) == COLUMNS
    one = t[(t["arch"] == "mlp1") & (t["subset"] == "train_clean") & (t["against"] == "given")]
    assert one["knn_accuracy"].tolist() == [0.5] * 4 and (one["n_runs"] == 2).all()
    assert one["knn_accuracy_sd"].to_numpy() == pytest.approx([np.sqrt(0.5)] * 4)
    assert set(t.loc[t["arch"] == "mlp1", "depth"]) == {1} and set(t.loc[t["arch"] == "mlp2", "depth"]) == {2}
    two = t[(t["arch"] == "mlp2") & (t["subset"] == "test") & (t["against"] == "given")]
    assert two["op"].tolist() == list(range(6)) and two["kind"].tolist() == \
        ["input", "dense", "relu", "dense", "relu", "softmax"]
    with pytest.raises(ValueError):
        op_curves({"mixed": [a, c]})


def test_probe_kind():
    assert [probe_kind(n) for n in ("input", "fc3", "relu3", "softmax", "conv1")] == \
        ["input", "dense", "relu", "softmax", "other"]


def test_mlp_every_op_probes_feed_the_table():
    """An MLP built with probe_every_op exposes input, fc1, relu1, .., softmax: 2 * depth + 2
    probes, the ReLU probe being the clamped dense one; without the option the names stay."""
    m = build_model({"family": "mlp", "depth": 3, "width": 5, "probe_every_op": True}, (1, 4, 4), 3)
    assert m.probe_names == ["input", "fc1", "relu1", "fc2", "relu2", "fc3", "relu3", "softmax"]
    x = torch.randn(7, 1, 4, 4)
    logits, acts = m.forward_with_probes(x)
    for i in (1, 2, 3):
        torch.testing.assert_close(acts[f"relu{i}"], acts[f"fc{i}"].clamp(min=0))
    torch.testing.assert_close(m.head(acts["relu3"]), logits)
    torch.testing.assert_close(m(x), logits)
    plain = build_model({"family": "mlp", "depth": 3, "width": 5}, (1, 4, 4), 3)
    assert plain.probe_names == ["input", "fc1", "fc2", "fc3", "softmax"]
    plain.load_state_dict(m.state_dict())                       # same parameters, same network
    torch.testing.assert_close(plain(x), logits)


def test_rows_and_halves():
    rows, fit, ev = rows_and_halves(10, None, 0)
    assert rows.tolist() == list(range(10)) and len(fit) == len(ev) == 5
    assert sorted(np.r_[fit, ev].tolist()) == list(range(10))
    rows, fit, ev = rows_and_halves(100, 11, 3)
    assert len(rows) == 11 == len(set(rows.tolist())) and (np.diff(rows) > 0).all()
    assert len(fit) == 5 and len(ev) == 6 and not set(fit) & set(ev) and max(np.r_[fit, ev]) < 11
    assert [a.tolist() for a in rows_and_halves(100, 11, 3)] == [a.tolist() for a in (rows, fit, ev)]


def test_probe_comparison_on_separable_and_overlapping_layers():
    rng = np.random.default_rng(0)
    y = np.arange(40) % 2
    fit, ev = np.arange(20), np.arange(20, 40)
    sep = torch.tensor(np.c_[y * 10.0 + rng.normal(size=40), rng.normal(size=40)], dtype=torch.float32)
    res = {r["method"]: r for r in probe_comparison(sep, y, 2, fit, ev, k=3, tie="nearest", l2=1e-4,
                                                     max_iter=50, device="cpu")}
    assert tuple(res) == METHODS and all(r["accuracy"] == 1.0 for r in res.values())
    assert res["lr_half"]["n_fit"] == 20 and res["knn_train"]["n_eval"] == 40
    # a layer that carries no information: labels alternate on identical rows
    same = torch.zeros(40, 3)
    res = {r["method"]: r for r in probe_comparison(same, y, 2, fit, ev, k=3, tie="nearest", l2=1e-4,
                                                     max_iter=50, device="cpu")}
    assert res["lr_train"]["accuracy"] == 0.5 and res["lr_half"]["accuracy"] == 0.5
