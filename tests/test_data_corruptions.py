"""The corruption ladder: shape/dtype, monotone severity, determinism, clear errors."""
import numpy as np
import pytest

from pointwise.data import CORRUPTIONS, corrupt, corrupt_dataset, make_synthetic

REQUIRED = {"gaussian_noise", "gaussian_blur", "contrast", "rotation", "elastic"}


@pytest.fixture(scope="module")
def images():
    return make_synthetic(10, 300, 10, channels=3, size=16, seed=0).images[10:]


@pytest.fixture(scope="module")
def gray():
    return make_synthetic(10, 300, 10, channels=1, size=28, seed=1).images[10:]


def test_required_corruptions_exist():
    assert REQUIRED <= set(CORRUPTIONS)


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_shape_dtype_deterministic(images, name):
    out = corrupt(images, name, 3, seed=5)
    assert out.shape == images.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out, corrupt(images, name, 3, seed=5))
    assert not np.array_equal(out, images)
    if name not in ("gaussian_blur", "contrast", "pixelate"):     # those have no randomness
        assert not np.array_equal(out, corrupt(images, name, 3, seed=6))


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_severity_monotone(images, gray, name):
    for imgs in (images, gray):
        dist = [np.abs(corrupt(imgs, name, s, seed=0).astype(float) - imgs).mean() for s in range(1, 6)]
        assert np.all(np.diff(dist) > 0), (name, dist)


def test_input_untouched(images):
    before = images.copy()
    corrupt(images, "elastic", 5, seed=0)
    np.testing.assert_array_equal(images, before)


def test_errors(images):
    with pytest.raises(ValueError, match="gaussian_noise"):           # lists valid names
        corrupt(images, "fog", 1)
    for bad in (0, 6, True):
        with pytest.raises(ValueError, match="severity"):
            corrupt(images, "contrast", bad)
    with pytest.raises(ValueError, match="uint8"):
        corrupt(images.astype(np.float32), "contrast", 1)


def test_corrupt_dataset_keeps_split_and_ids():
    ds = make_synthetic(40, 30, 5, size=8, seed=2)
    rung = corrupt_dataset(ds, "gaussian_noise", 2, split="test", seed=1, name="rung")
    assert len(rung) == 30 and (rung.split == 1).all() and rung.split_names == ds.split_names
    np.testing.assert_array_equal(rung.ids, ds.ids[40:])
    np.testing.assert_array_equal(rung.labels, ds.labels[40:])
    assert (rung.extras["severity"] == 2).all()
    assert rung.attrs["corruption"] == "gaussian_noise" and rung.attrs["severity"] == 2


def test_empty_split_round_trips(tmp_path):
    from pointwise.data import read_dataset, write_dataset
    ds = make_synthetic(20, 0, 2, size=4, seed=0)
    rung = corrupt_dataset(ds, "contrast", 1, split="test")
    assert len(rung) == 0 and rung.images.shape == (0, 1, 4, 4)
    write_dataset(rung, tmp_path / "empty.h5")
    assert len(read_dataset(tmp_path / "empty.h5")) == 0
