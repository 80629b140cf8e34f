import numpy as np
import pytest

from pointwise.data.build import build_dataset
from pointwise.data.downsample import downsample_images
from pointwise.data.store import read_dataset, write_dataset

from conftest import toy_dataset


def test_block_means_by_hand():
    x = np.array([[[[0, 2, 4, 6], [2, 4, 6, 8], [10, 10, 0, 0], [10, 11, 0, 1]]]], dtype=np.uint8)
    np.testing.assert_array_equal(downsample_images(x, 2)[0, 0], [[2, 6], [10, 0]])   # 10.25 -> 10, 0.25 -> 0


def test_factor_must_divide():
    with pytest.raises(ValueError, match="divide"):
        downsample_images(np.zeros((1, 1, 5, 5), np.uint8), 2)


def test_build_keeps_ids_and_labels(tmp_path):
    parent = tmp_path / "p.h5"
    write_dataset(toy_dataset(), parent)
    out = tmp_path / "d.h5"
    build_dataset("toy_small", {"derive": "downsample", "parent": "toy", "factor": 3}, out, parent_path=parent)
    a, b = read_dataset(parent), read_dataset(out)
    assert b.images.shape == (len(a), 1, 4, 4)
    np.testing.assert_array_equal(a.ids, b.ids)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert b.attrs["factor"] == 3
