"""Images as table rows, so that figures read the examples they show from a table (CSV) rather
than from the dataset file: id, channels, height, width and the uint8 pixels, space-separated in
C order. Used by the example figures of papers 000, 002 and 003."""
from __future__ import annotations

import numpy as np
import pandas as pd


def image_rows(images, ids, wanted) -> pd.DataFrame:
    """id, channels, height, width and uint8 pixels of the examples ``wanted`` of an image array
    ``images`` ``[N, C, H, W]`` whose ids are ``ids``, in the order of ``wanted``."""
    ids, wanted = np.asarray(ids), np.asarray(wanted)
    order = np.argsort(ids)
    pos = order[np.searchsorted(ids, wanted, sorter=order).clip(0, max(ids.size - 1, 0))]
    if not np.array_equal(ids[pos], wanted):
        raise ValueError(f"examples {sorted(set(wanted.tolist()) - set(ids.tolist()))[:5]} not in the dataset")
    c, h, w = images.shape[1:]
    return pd.DataFrame({"id": wanted, "channels": c, "height": h, "width": w,
                         "pixels": [" ".join(map(str, images[p].reshape(-1))) for p in pos]})


def dataset_image_rows(data, wanted) -> pd.DataFrame:
    """:func:`image_rows` of the examples ``wanted`` of a dataset file (``pointwise.data.store``)."""
    from pointwise.data.store import read_dataset

    ds = read_dataset(data)
    return image_rows(ds.images, ds.ids, wanted)


def decode_pixels(row) -> np.ndarray:
    """An image row of :func:`image_rows` back to ``[H, W]`` (grey) or ``[H, W, C]``."""
    img = np.array(str(row["pixels"]).split(), dtype=np.uint8).reshape(
        int(row["channels"]), int(row["height"]), int(row["width"]))
    return img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0)
