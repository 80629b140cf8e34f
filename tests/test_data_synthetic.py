"""The synthetic generator: determinism, shapes, planted flips and blends, and learnability."""

import numpy as np
import pytest

from pointwise.data import build_dataset, make_synthetic, read_dataset


def test_deterministic_and_seed_sensitive():
    a = make_synthetic(200, 50, 5, channels=3, size=12, seed=7, flip_fraction=0.1, ambiguous_fraction=0.1)
    b = make_synthetic(200, 50, 5, channels=3, size=12, seed=7, flip_fraction=0.1, ambiguous_fraction=0.1)
    c = make_synthetic(200, 50, 5, channels=3, size=12, seed=8, flip_fraction=0.1, ambiguous_fraction=0.1)
    for key in ("images", "labels", "ids", "split"):
        assert getattr(a, key).tobytes() == getattr(b, key).tobytes()
    for key in a.extras:
        assert a.extras[key].tobytes() == b.extras[key].tobytes()
    assert not np.array_equal(a.images, c.images)


def test_train_independent_of_test_size():
    a = make_synthetic(100, 10, 4, size=8, seed=3)
    b = make_synthetic(100, 40, 4, size=8, seed=3)
    np.testing.assert_array_equal(a.images[:100], b.images[:100])


@pytest.mark.parametrize("n_train, n_test, classes, channels, size", [
    (30, 0, 2, 1, 4), (64, 16, 10, 1, 28), (50, 20, 7, 3, 32), (40, 10, 100, 2, 9)])
def test_shapes(n_train, n_test, classes, channels, size):
    ds = make_synthetic(n_train, n_test, classes, channels=channels, size=size, seed=1)
    assert ds.images.shape == (n_train + n_test, channels, size, size) and ds.images.dtype == np.uint8
    assert ds.num_classes == classes and len(ds.class_names) == classes
    np.testing.assert_array_equal(ds.ids, np.arange(n_train + n_test))
    assert list(np.bincount(ds.split, minlength=2)) == [n_train, n_test]
    train_counts = np.bincount(ds.labels[:n_train], minlength=classes)
    assert train_counts.max() - train_counts.min() <= 1           # balanced classes
    assert ds.images.std() > 10                                    # not a constant image


def test_planted_flips_and_blends():
    ds = make_synthetic(1000, 200, 10, size=8, seed=0, flip_fraction=0.05, ambiguous_fraction=0.1)
    flipped, orig = ds.extras["flipped"], ds.extras["labels_orig"]
    assert flipped.sum() == 50 and not flipped[1000:].any()
    np.testing.assert_array_equal(flipped, ds.labels != orig)
    assert ds.extras["ambiguous"][:1000].sum() == 100 and ds.extras["ambiguous"][1000:].sum() == 20
    assert 0.1 < ds.extras["rare"].mean() < 0.4
    clean = make_synthetic(100, 10, 3, size=8, seed=0)
    assert not clean.extras["flipped"].any() and not clean.extras["ambiguous"].any()


def test_learnable_but_not_trivial():
    """A nearest-class-mean classifier, fitted on train, is far above chance and below perfect."""
    ds = make_synthetic(2000, 1000, 10, size=16, seed=0)
    x = ds.images.reshape(len(ds), -1).astype(np.float64)
    tr, te = ds.split == 0, ds.split == 1
    means = np.stack([x[tr & (ds.labels == c)].mean(0) for c in range(10)])
    pred = ((x[te, None, :] - means[None]) ** 2).sum(-1).argmin(1)
    acc = (pred == ds.labels[te]).mean()
    assert 0.4 < acc < 0.98


def test_build_synthetic(tmp_path):
    spec = {"source": "synthetic", "n_train": 60, "n_test": 20, "num_classes": 3, "channels": 1,
            "size": 8, "seed": 4, "flip_fraction": 0.1}
    build_dataset("syn", spec, tmp_path / "syn.h5")
    ds = read_dataset(tmp_path / "syn.h5")
    ref = make_synthetic(60, 20, 3, channels=1, size=8, seed=4, flip_fraction=0.1)
    np.testing.assert_array_equal(ds.images, ref.images)
    np.testing.assert_array_equal(ds.labels, ref.labels)
    assert ds.extras["flipped"].dtype == bool and ds.extras["flipped"].sum() == 6
    assert ds.name == "syn" and ds.split_names == ["train", "test"]


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="num_classes"):
        make_synthetic(10, 5, 1)
    with pytest.raises(ValueError, match="flip_fraction"):
        make_synthetic(10, 5, 2, flip_fraction=1.5)
