"""Images as table rows (pointwise.data.image_table): the example figures of papers 000, 002, 003."""
import numpy as np
import pytest

from pointwise.data.image_table import dataset_image_rows, decode_pixels, image_rows
from pointwise.data.store import ImageDataset, write_dataset


def test_image_rows_roundtrip_in_the_order_asked():
    imgs = np.random.default_rng(0).integers(0, 256, (5, 1, 3, 4), dtype=np.uint8)
    ids = np.array([9, 4, 7, 1, 3])
    t = image_rows(imgs, ids, [7, 9])
    assert list(t["id"]) == [7, 9] and (t[["channels", "height", "width"]].to_numpy() == [1, 3, 4]).all()
    np.testing.assert_array_equal(decode_pixels(t.iloc[0]), imgs[2, 0])
    np.testing.assert_array_equal(decode_pixels(t.iloc[1]), imgs[0, 0])
    rgb = image_rows(np.zeros((1, 3, 2, 2), np.uint8) + np.arange(3, dtype=np.uint8)[None, :, None, None], [0], [0])
    img = decode_pixels(rgb.iloc[0])
    assert img.shape == (2, 2, 3) and (img[..., 2] == 2).all()                  # channels last
    with pytest.raises(ValueError, match="not in the dataset"):
        image_rows(imgs, ids, [5])


def test_dataset_image_rows_reads_a_dataset_file(tmp_path):
    imgs = np.arange(4 * 2 * 2, dtype=np.uint8).reshape(4, 1, 2, 2)
    ds = ImageDataset("tiny", imgs, labels=[0, 1, 0, 1], ids=[10, 11, 12, 13], split=[0, 0, 1, 1], num_classes=2)
    write_dataset(ds, tmp_path / "tiny.h5")
    t = dataset_image_rows(tmp_path / "tiny.h5", [13, 10])
    np.testing.assert_array_equal(decode_pixels(t.iloc[0]), imgs[3, 0])
    np.testing.assert_array_equal(decode_pixels(t.iloc[1]), imgs[0, 0])
