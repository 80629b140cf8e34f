"""The real Fashion-MNIST (Debian package dataset-fashion-mnist), when installed: skipped otherwise."""
from pathlib import Path

import numpy as np
import pytest

from pointwise.data import build_dataset, read_dataset

FMNIST = Path("/usr/share/datasets/fashion-mnist")
pytestmark = pytest.mark.skipif(not (FMNIST / "train-images-idx3-ubyte.gz").exists(),
                                reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")


def test_real_fashion_mnist(tmp_path):
    out = tmp_path / "fmnist.h5"
    build_dataset("fmnist", {"source": "fashion_mnist", "path": str(FMNIST)}, out)
    ds = read_dataset(out)
    assert ds.images.shape == (70000, 1, 28, 28) and ds.images.dtype == np.uint8
    assert ds.split_names == ["train", "test"]
    assert list(np.bincount(ds.split)) == [60000, 10000]
    np.testing.assert_array_equal(ds.ids, np.arange(70000))
    assert list(np.bincount(ds.labels[ds.split == 0])) == [6000] * 10
    assert list(np.bincount(ds.labels[ds.split == 1])) == [1000] * 10
    assert ds.class_names[0] == "T-shirt/top" and ds.class_names[9] == "Ankle boot"
    assert sorted(ds.source_sha256) == sorted(f.name for f in FMNIST.glob("*-ubyte.gz"))
    assert 0 < ds.images.mean() < 255
