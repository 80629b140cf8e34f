"""The broader sub-class pretraining source of paper 001's zero-shot analogue: disjoint from the
excluded pool, sub-classes recovered by k-means, nuisances deterministic and bounded."""
import numpy as np
import pytest

from pointwise.data.broad_source import broad_source, kmeans, nuisances, subclass_labels
from pointwise.data.build import derive
from pointwise.data.store import ImageDataset
from pointwise.data.subsets import balanced_subset


def labelled(n_per=40, classes=3, size=8, seed=0):
    """Each class = two well-separated prototypes (its two true sub-classes) plus small noise."""
    rng = np.random.default_rng(seed)
    protos = rng.integers(0, 256, (classes, 2, 1, size, size))
    y = np.repeat(np.arange(classes), 2 * n_per)
    sub = np.tile(np.repeat([0, 1], n_per), classes)
    imgs = np.clip(protos[y, sub] + rng.normal(0, 6, (len(y), 1, size, size)), 0, 255).astype(np.uint8)
    split = (np.arange(len(y)) % 4 == 3).astype(np.uint8)        # a quarter test
    ds = ImageDataset("toy", imgs, y, np.arange(len(y)) + 500, split, classes)
    return ds, sub


def test_kmeans_separates_obvious_clusters():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(0, 0.1, (30, 2)), rng.normal(5, 0.1, (20, 2))])
    cent, a = kmeans(x, 2, np.random.default_rng(0))
    assert len(set(a[:30])) == 1 and len(set(a[30:])) == 1 and a[0] != a[30]
    np.testing.assert_allclose(sorted(cent[:, 0]), [x[:30, 0].mean(), x[30:, 0].mean()])


def test_subclass_labels_recover_the_true_subclasses():
    ds, sub = labelled()
    fit = ds.split == 0
    lab = subclass_labels(ds.images, ds.labels, fit, 3, 2, seed=0)
    assert (lab // 2 == ds.labels).all()                          # the class map c -> {2c, 2c + 1} is exact
    for c in range(3):                                           # clusters = the true sub-classes (up to naming)
        m = ds.labels == c
        assert len({(a, b) for a, b in zip(lab[m], sub[m])}) == 2


def test_nuisances_are_deterministic_bounded_and_not_noise():
    ds, _ = labelled()
    a = nuisances(ds.images, np.random.default_rng(3))
    b = nuisances(ds.images, np.random.default_rng(3))
    assert a.dtype == np.uint8 and a.shape == ds.images.shape and np.array_equal(a, b)
    assert not np.array_equal(a, ds.images)
    flat = np.full((50, 1, 8, 8), 128, dtype=np.uint8)           # a constant image stays piecewise constant:
    out = nuisances(flat, np.random.default_rng(0))              # no per-pixel noise is added
    assert all(len(np.unique(o)) <= 3 for o in out)              # image level, occluder, zero-filled shift border


def test_broad_source_excludes_the_pool_and_maps_onto_the_classes():
    ds, _ = labelled(n_per=40)
    excl = {"per_class": {"train": 20, "test": 5}, "seed": 0}
    pool = balanced_subset(ds, excl["per_class"], seed=0)
    out = broad_source(ds, 2, exclude=excl, factor=2, seed=4)
    assert not np.isin(out.ids, pool.ids).any()
    assert len(out) == len(ds) - len(pool) and out.shape == (1, 4, 4)
    assert out.num_classes == 6 and (out.labels // 2 == out.extras["labels_orig"]).all()
    assert out.class_names[:2] == ["0/0", "0/1"]
    same = derive("src", {"derive": "broad_source", "parent": "toy", "subclasses": 2, "exclude": excl,
                          "factor": 2, "seed": 4}, ds)
    assert np.array_equal(same.images, out.images) and np.array_equal(same.labels, out.labels)
    small = broad_source(ds, 2, exclude=excl, per_class={"train": 10}, seed=0)
    assert np.bincount(small.extras["labels_orig"], minlength=3).tolist() == [10, 10, 10]
    with pytest.raises(ValueError):
        broad_source(ds, 1)


def test_default_zero_shot_source_excludes_the_default_pool():
    """config.yaml: rb_zs_source drops exactly what fmnist_pool draws (same parent, per_class, seed)."""
    import yaml
    from conftest import ROOT
    d = yaml.safe_load(open(ROOT / "config.yaml"))["datasets"]
    src, pool = d["rb_zs_source"], d["fmnist_pool"]
    assert src["derive"] == "broad_source" and src["parent"] == pool["parent"]
    assert src["exclude"] == {"per_class": pool["per_class"], "seed": pool.get("seed", 0)}
