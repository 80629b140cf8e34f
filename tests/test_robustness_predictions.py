"""Paper 001: the per-model predictions format, the importer (JSON / .npy), HDF5 round trip,
the logits.h5 reader, and the format feeding the fit, ER, dominance and unique-correct code."""
import json

import h5py
import numpy as np
import pytest

from pointwise.robustness import (PAPER_TABLE3, LinearFit, PredictionImportError, Predictions,
                                  dominance_matrix, effective_robustness, fit_predictions,
                                  import_prediction_dir, import_predictions, predictions_from_logits_h5,
                                  read_predictions_h5, run_accuracies, unique_correct,
                                  write_predictions_h5)

LAB_ID = np.array([0, 1, 2, 0, 1, 2, 0, 1])
LAB_OOD = np.array([2, 2, 1, 0, 0])


def _logits_for(pred, n_classes=3, seed=0):
    z = np.random.default_rng(seed).normal(size=(len(pred), n_classes)).astype(np.float32)
    z[np.arange(len(pred)), pred] = 10.0
    return z


@pytest.fixture
def published(tmp_path):
    """Three models: a JSON list, .npy labels, and .npy / JSON logits."""
    root = tmp_path / "preds"
    (root / "labels").mkdir(parents=True)
    (root / "labels" / "id.json").write_text(json.dumps(LAB_ID.tolist()))
    np.save(root / "labels" / "ood.npy", LAB_OOD)
    models = {
        "m_json": (np.array([0, 1, 2, 0, 1, 2, 0, 0]), np.array([2, 2, 1, 1, 1])),
        "m_npy": (np.array([0, 1, 1, 1, 1, 1, 0, 1]), np.array([2, 0, 0, 0, 0])),
        "m_logits": (np.array([0, 0, 0, 0, 0, 0, 0, 0]), np.array([2, 2, 1, 0, 0])),
    }
    (root / "m_json").mkdir()
    (root / "m_json" / "id.json").write_text(json.dumps(models["m_json"][0].tolist()))
    (root / "m_json" / "ood.json").write_text(json.dumps({"predictions": models["m_json"][1].tolist()}))
    (root / "m_npy").mkdir()
    np.save(root / "m_npy" / "id.npy", models["m_npy"][0])
    np.save(root / "m_npy" / "ood.npy", models["m_npy"][1].astype(np.int32))
    (root / "m_logits").mkdir()
    np.save(root / "m_logits" / "id.npy", _logits_for(models["m_logits"][0]))
    (root / "m_logits" / "ood.json").write_text(json.dumps(_logits_for(models["m_logits"][1], seed=1).tolist()))
    return root, models


def test_import_directory(published):
    root, models = published
    p = import_prediction_dir(root, keep_logits=True)
    assert p.models == ["m_json", "m_logits", "m_npy"]
    assert set(p.sets) == {"id", "ood"}
    for i, m in enumerate(p.models):
        np.testing.assert_array_equal(p.sets["id"].pred[i], models[m][0])
        np.testing.assert_array_equal(p.sets["ood"].pred[i], models[m][1])
    np.testing.assert_array_equal(p.sets["ood"].labels, LAB_OOD)
    assert p.sets["id"].logits is None                        # not every model gave logits
    np.testing.assert_allclose(p.accuracy("id"), [7 / 8, 3 / 8, 5 / 8])
    assert p.sets["ood"].k.tolist() == [3, 5, 3] and p.sets["ood"].n == 5
    t = p.table()
    assert len(t) == 6 and {"cp_lo", "cp_hi"} <= set(t.columns)
    assert (t.cp_lo <= t.acc).all() and (t.acc <= t.cp_hi).all()
    w = p.wide_table()
    assert list(w.columns[:6]) == ["model", "id_n", "id_k", "id_acc", "id_lo", "id_hi"]


def test_import_explicit_paths_and_single_json_per_model(tmp_path, published):
    root, models = published
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"id": models["m_json"][0].tolist(), "ood": models["m_json"][1].tolist()}))
    p = import_predictions({"single": one, "split": {"id": root / "m_npy" / "id.npy",
                                                      "ood": root / "m_npy" / "ood.npy"}},
                           {"id": root / "labels" / "id.json", "ood": root / "labels" / "ood.npy"},
                           num_classes=3)
    assert p.models == ["single", "split"]
    np.testing.assert_array_equal(p.sets["id"].pred[0], models["m_json"][0])
    # only the logits model, with logits kept
    q = import_predictions({"lg": {"id": root / "m_logits" / "id.npy", "ood": root / "m_logits" / "ood.json"}},
                           {"id": root / "labels" / "id.json", "ood": root / "labels" / "ood.npy"},
                           keep_logits=True)
    assert q.sets["id"].logits.shape == (1, 8, 3)


def test_import_errors(tmp_path, published):
    root, _ = published
    labels = {"id": root / "labels" / "id.json", "ood": root / "labels" / "ood.npy"}
    short = tmp_path / "short.json"
    short.write_text(json.dumps([0, 1, 2]))
    with pytest.raises(PredictionImportError, match=r"model 'bad', set 'id'.*3 predictions.*8 examples"):
        import_predictions({"bad": {"id": short, "ood": root / "m_npy" / "ood.npy"}}, labels)
    with pytest.raises(FileNotFoundError, match="model 'gone', set 'id'"):
        import_predictions({"gone": {"id": tmp_path / "nope.npy", "ood": root / "m_npy" / "ood.npy"}}, labels)
    with pytest.raises(FileNotFoundError, match="no prediction file for set 'ood'"):
        import_predictions({"half": {"id": root / "m_npy" / "id.npy"}}, labels)
    with pytest.raises(PredictionImportError, match="num_classes"):
        import_predictions({"m": {"id": root / "m_npy" / "id.npy", "ood": root / "m_npy" / "ood.npy"}},
                           labels, num_classes=2)
    frac = tmp_path / "frac.json"
    frac.write_text(json.dumps([0.5] * 8))
    with pytest.raises(PredictionImportError, match="integers"):
        import_predictions({"m": {"id": frac, "ood": root / "m_npy" / "ood.npy"}}, labels)
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"foo": [0] * 8}))
    with pytest.raises(PredictionImportError, match="exactly one of the keys"):
        import_predictions({"m": {"id": keys, "ood": root / "m_npy" / "ood.npy"}}, labels)
    np.save(root / "m_json" / "id.npy", np.zeros(8, int))
    with pytest.raises(PredictionImportError, match="both id.json and id.npy"):
        import_prediction_dir(root)
    with pytest.raises(FileNotFoundError, match="labels/"):
        import_prediction_dir(tmp_path)


def test_format_feeds_fit_er_dominance_unique(tmp_path):
    rng = np.random.default_rng(0)
    n_id, n_ood, n_models = 2000, 1000, 12
    lab_id, lab_ood = rng.integers(0, 10, n_id), rng.integers(0, 10, n_ood)
    fit = LinearFit.from_constants(*PAPER_TABLE3["cifar10_cifar10.1"])
    acc_id = np.linspace(0.3, 0.95, n_models)
    acc_ood = fit.beta(acc_id)
    files = {}
    for m in range(n_models):
        pi = np.where(rng.random(n_id) < acc_id[m], lab_id, (lab_id + 1) % 10)
        po = np.where(rng.random(n_ood) < acc_ood[m], lab_ood, (lab_ood + 1) % 10)
        np.save(tmp_path / f"{m}_id.npy", pi)
        (tmp_path / f"{m}_ood.json").write_text(json.dumps(po.tolist()))
        files[f"tb{m:02d}"] = {"id": tmp_path / f"{m}_id.npy", "ood": tmp_path / f"{m}_ood.json"}
    np.save(tmp_path / "lid.npy", lab_id)
    np.save(tmp_path / "lood.npy", lab_ood)
    p = import_predictions(files, {"id": tmp_path / "lid.npy", "ood": tmp_path / "lood.npy"})
    f = fit_predictions(p, "id", "ood")
    assert f.r2 > 0.95 and f.A == pytest.approx(fit.A, abs=0.15)
    er = effective_robustness(p.accuracy("id"), p.accuracy("ood"), f)
    assert np.abs(er).max() < 0.05
    M, order = dominance_matrix(p.correct("id"))
    assert M.shape == (12, 12)
    uc = unique_correct(p.select(p.models[:-1]).correct("id"), p.select(p.models[-1:]).correct("id"),
                        labels=p.sets["id"].labels, num_classes=10,
                        testbed_names=p.models[:-1], other_names=p.models[-1:])
    assert len(uc) == 12 and (uc.chance == 0.1).all()
    merged = p.select(p.models[:2]).merge(p.select(p.models[5:6]))
    assert merged.models == ["tb00", "tb01", "tb05"]


def test_h5_round_trip(tmp_path, published):
    root, _ = published
    p = import_prediction_dir(root)
    write_predictions_h5(p, tmp_path / "p.h5", provenance={"config_hash": "abc"})
    q = read_predictions_h5(tmp_path / "p.h5")
    assert q.models == p.models
    for s in p.sets:
        np.testing.assert_array_equal(q.sets[s].pred, p.sets[s].pred)
        np.testing.assert_array_equal(q.sets[s].labels, p.sets[s].labels)
    with h5py.File(tmp_path / "p.h5") as f:
        assert f.attrs["config_hash"] == "abc"


def _fake_logits_h5(path, sets, k_points=3, perm=None):
    """A logits.h5 in the engine's layout (docs/training.md)."""
    with h5py.File(path, "w") as f:
        f.create_dataset("steps", data=np.arange(k_points) * 10)
        f.create_dataset("epochs", data=np.arange(k_points) * 1.0)
        for name, (labels, preds) in sets.items():
            ids = np.arange(len(labels)) + 500
            z = np.stack([_logits_for(p, seed=i) for i, p in enumerate(preds)]).astype(np.float16)
            if perm is not None:
                ids, labels, z = ids[perm], labels[perm], z[:, perm]
            g = f.create_group(name)
            g.create_dataset("logits", data=z)
            g.create_dataset("ids", data=ids)
            g.create_dataset("labels", data=labels)


def test_logits_h5_reader(tmp_path):
    pid = [np.array([0, 0, 0, 0, 0, 0, 0, 0]), np.array([0, 1, 2, 0, 0, 0, 0, 0]), LAB_ID]
    pood = [np.array([0] * 5), LAB_OOD, LAB_OOD]
    _fake_logits_h5(tmp_path / "a.h5", {"id_test": (LAB_ID, pid), "ood_rep": (LAB_OOD, pood)})
    perm = np.array([7, 6, 5, 4, 3, 2, 1, 0])
    acc = run_accuracies(tmp_path / "a.h5", ["id_test", "ood_rep"])
    np.testing.assert_allclose(acc["id_test"], [3 / 8, 5 / 8, 1.0])
    np.testing.assert_allclose(acc["ood_rep"], [2 / 5, 1.0, 1.0])
    assert acc["epochs"].tolist() == [0.0, 1.0, 2.0]
    p = predictions_from_logits_h5({"final": tmp_path / "a.h5", "first": (tmp_path / "a.h5", 0)},
                                   {"id": "id_test", "rep": "ood_rep"})
    np.testing.assert_allclose(p.accuracy("id"), [1.0, 3 / 8])
    # a run whose examples are stored in another order is aligned by ids
    _fake_logits_h5(tmp_path / "c.h5", {"id_test": (LAB_ID, pid)}, perm=perm)
    q = predictions_from_logits_h5({"a": tmp_path / "a.h5", "c": tmp_path / "c.h5"}, ["id_test"])
    np.testing.assert_array_equal(q.sets["id_test"].pred[0], q.sets["id_test"].pred[1])
    with pytest.raises(PredictionImportError, match="no eval set"):
        predictions_from_logits_h5({"a": tmp_path / "a.h5"}, ["style"])
    with pytest.raises(FileNotFoundError):
        predictions_from_logits_h5({"x": tmp_path / "missing.h5"}, ["id_test"])


def test_predictions_validation():
    with pytest.raises(PredictionImportError):
        Predictions(["a", "a"])
    from pointwise.robustness import EvalSet
    with pytest.raises(PredictionImportError):
        EvalSet(np.zeros(3), np.zeros((2, 4)))
