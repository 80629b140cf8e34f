"""Class-balanced subsets: exact per-class counts, ids from the parent, seeded, clear errors."""
import numpy as np
import pytest

from pointwise.data import balanced_subset, make_synthetic


@pytest.fixture(scope="module")
def ds():
    return make_synthetic(300, 100, 5, size=4, seed=0)


def test_exact_counts_and_ids(ds):
    sub = balanced_subset(ds, {"train": 20, "test": 7}, seed=1)
    for split, n in (("train", 20), ("test", 7)):
        rows = sub.split_index(split)
        assert list(np.bincount(sub.labels[rows], minlength=5)) == [n] * 5
    assert set(sub.ids) <= set(ds.ids) and np.all(np.diff(sub.ids) > 0)
    pos = np.searchsorted(ds.ids, sub.ids)                     # rows match the parent's rows
    np.testing.assert_array_equal(sub.images, ds.images[pos])
    np.testing.assert_array_equal(sub.labels, ds.labels[pos])
    assert sub.split_names == ds.split_names and sub.class_names == ds.class_names
    assert sub.attrs["per_class"] == {"train": 20, "test": 7}


def test_unnamed_splits_dropped_and_seeded(ds):
    a = balanced_subset(ds, {"train": 10}, seed=3)
    assert len(a) == 50 and (a.split == 0).all()
    np.testing.assert_array_equal(a.ids, balanced_subset(ds, {"train": 10}, seed=3).ids)
    assert not np.array_equal(a.ids, balanced_subset(ds, {"train": 10}, seed=4).ids)


def test_errors(ds):
    with pytest.raises(ValueError, match="has 20"):
        balanced_subset(ds, {"test": 21})
    with pytest.raises(ValueError, match="unknown split"):
        balanced_subset(ds, {"valid": 1})
