"""Fig 5 middle: the training learning curve of label-noise runs (spec 002 §3.11) from the runs'
``knn.h5`` (ids, splits, given and original labels) and ``logits.h5`` (eval-point logits)."""
import h5py
import numpy as np
import pytest

from pointwise.depth.pipeline import learning_curve


def _knn(path, ids, split, labels, labels_orig):
    with h5py.File(path, "w") as f:
        f["query_ids"], f["query_split"] = np.asarray(ids), np.asarray(split, np.uint8)
        f["labels"], f["labels_orig"] = np.asarray(labels), np.asarray(labels_orig)
        f.attrs["dataset"] = "noisy"


def _logits(path, steps, ids, preds, C=3):
    """logits.h5 with one eval set whose argmax at eval point m is preds[m]."""
    z = np.zeros((len(steps), len(ids), C), np.float16)
    np.put_along_axis(z, np.asarray(preds)[..., None], 1.0, axis=-1)
    with h5py.File(path, "w") as f:
        f["steps"] = np.asarray(steps)
        g = f.create_group("train")
        g["ids"], g["logits"] = np.asarray(ids), z
        g.attrs["dataset"] = "noisy"
        other = f.create_group("other")           # an eval set of another dataset is ignored
        other["ids"], other["logits"] = np.asarray(ids), np.zeros_like(z)
        other.attrs["dataset"] = "elsewhere"


def test_learning_curve_hand_case(tmp_path):
    # ids 1: clean train (label 0); 2: flipped train (given 1, original 2); 3: held out (2);
    # 4: test (1); 5: clean train but in no eval set (not counted)
    ids, split = [1, 2, 3, 4, 5], [0, 0, 1, 2, 0]
    labels, orig = [0, 1, 2, 1, 0], [0, 2, 2, 1, 0]
    steps = [0, 10, 20]
    preds = {0: [[1, 2, 0, 1], [0, 2, 2, 0], [0, 1, 2, 1]],
             1: [[0, 2, 0, 1], [0, 2, 2, 0], [0, 1, 2, 1]]}
    knn, lg = [], []
    for r in (0, 1):
        knn.append(tmp_path / f"knn{r}.h5")
        lg.append(tmp_path / f"logits{r}.h5")
        _knn(knn[-1], ids, split, labels, orig)
        _logits(lg[-1], steps, ids[:4], preds[r])
    lc = learning_curve(knn, lg)

    def curve(sub, against):
        s = lc[(lc["subset"] == sub) & (lc["against"] == against)].sort_values("step")
        assert s["step"].tolist() == steps
        return s

    c = curve("train_clean", "given")
    np.testing.assert_allclose(c["accuracy"], [0.5, 1, 1])
    np.testing.assert_allclose(c["accuracy_sd"], [np.sqrt(0.5), 0, 0])
    assert (c["n_examples"] == 1).all() and (c["n_runs"] == 2).all()        # id 5 is not evaluated
    np.testing.assert_allclose(curve("train_flipped", "given")["accuracy"], [0, 0, 1])
    np.testing.assert_allclose(curve("train_flipped", "original")["accuracy"], [1, 1, 0])
    np.testing.assert_allclose(curve("held_out", "given")["accuracy"], [0, 1, 1])
    np.testing.assert_allclose(curve("test", "given")["accuracy"], [1, 0, 1])
    np.testing.assert_allclose(curve("test", "original")["accuracy"], [1, 0, 1])   # unflipped
    assert set(lc["subset"]) == {"train_clean", "train_flipped", "held_out", "test"}


def test_learning_curve_without_flipped_examples(tmp_path):
    """A clean dataset: the flipped subset is empty (accuracy NaN, n_examples 0), never an error."""
    _knn(tmp_path / "k.h5", [1, 2], [0, 2], [0, 1], [0, 1])
    _logits(tmp_path / "l.h5", [0, 5], [1, 2], [[0, 0], [0, 1]])
    lc = learning_curve([tmp_path / "k.h5"], [tmp_path / "l.h5"])
    f = lc[lc["subset"] == "train_flipped"]
    assert f["accuracy"].isna().all() and (f["n_examples"] == 0).all()
    t = lc[(lc["subset"] == "test") & (lc["against"] == "given")].sort_values("step")
    assert t["accuracy"].tolist() == pytest.approx([0, 1])
