"""Fixed label noise (spec 002 §3.11): exact fraction, flipped mask, other splits untouched."""
import numpy as np
import pytest

from pointwise.data import add_label_noise, make_synthetic, noisy_labels


@pytest.fixture(scope="module")
def ds():
    return make_synthetic(500, 100, 10, size=4, seed=0)


@pytest.mark.parametrize("fraction", [0.1, 0.4, 1.0])
def test_other_class_exact(ds, fraction):
    noisy = add_label_noise(ds, fraction, mode="other_class", seed=3)
    train = noisy.split == 0
    flipped, orig = noisy.extras["flipped"], noisy.extras["labels_orig"]
    assert flipped.dtype == bool and flipped[train].sum() == round(fraction * 500)
    np.testing.assert_array_equal(flipped, noisy.labels != orig)
    np.testing.assert_array_equal(orig, ds.labels)
    np.testing.assert_array_equal(noisy.labels[~train], ds.labels[~train])   # test split untouched
    np.testing.assert_array_equal(noisy.ids, ds.ids)
    np.testing.assert_array_equal(noisy.images, ds.images)
    assert noisy.attrs["n_flipped"] == round(fraction * 500)


def test_uniform_marks_only_changes(ds):
    noisy = add_label_noise(ds, 0.5, mode="uniform", seed=1)
    flipped = noisy.extras["flipped"]
    np.testing.assert_array_equal(flipped, noisy.labels != ds.labels)
    assert noisy.attrs["n_resampled"] == 250
    assert 180 < flipped.sum() < 250                # about 1/10 of the resampled keep their label


def test_seeded_and_other_split(ds):
    a = add_label_noise(ds, 0.2, seed=4)
    b = add_label_noise(ds, 0.2, seed=4)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert not np.array_equal(a.labels, add_label_noise(ds, 0.2, seed=5).labels)
    t = add_label_noise(ds, 0.3, split="test", seed=0)
    assert t.extras["flipped"][ds.split == 0].sum() == 0 and t.extras["flipped"].sum() == 30


def test_noise_on_noise_refers_to_truth():
    base = make_synthetic(200, 0, 4, size=4, seed=0, flip_fraction=0.1)
    noisy = add_label_noise(base, 0.2, seed=0)
    np.testing.assert_array_equal(noisy.extras["labels_orig"], base.extras["labels_orig"])
    np.testing.assert_array_equal(noisy.extras["flipped"], noisy.labels != base.extras["labels_orig"])


def test_noisy_labels_errors():
    with pytest.raises(ValueError, match="mode"):
        noisy_labels(np.zeros(4, int), 3, 0.5, mode="swap")
    with pytest.raises(ValueError, match="fraction"):
        noisy_labels(np.zeros(4, int), 3, 1.5)
