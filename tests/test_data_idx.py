"""IDX parsing (pointwise.data.idx): round trip, raw vs gzip, and clear errors on bad files."""
import gzip

import numpy as np
import pytest

from pointwise.data.idx import IdxFormatError, idx_bytes, parse_idx, read_idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_round_trip_dtypes(tmp_path, dtype):
    arr = (np.arange(24) - (0 if dtype == np.uint8 else 7)).astype(dtype).reshape(2, 3, 4)
    (tmp_path / "a.gz").write_bytes(gzip.compress(idx_bytes(arr)))
    (tmp_path / "a").write_bytes(idx_bytes(arr))
    for f in ("a.gz", "a"):
        out = read_idx(tmp_path / f)
        assert out.dtype == np.dtype(dtype) and out.shape == arr.shape
        np.testing.assert_array_equal(out, arr)


def test_header_is_big_endian_mnist_magic():
    buf = idx_bytes(np.zeros((5, 28, 28), np.uint8))
    assert buf[:4] == b"\x00\x00\x08\x03"            # magic 2051 of the MNIST image files
    assert int.from_bytes(buf[4:8], "big") == 5
    assert idx_bytes(np.zeros(7, np.uint8))[:4] == b"\x00\x00\x08\x01"   # 2049: label files


@pytest.mark.parametrize("buf, match", [
    (b"\x01\x02\x08\x01" + b"\x00\x00\x00\x01x", "magic"),
    (b"\x00\x00\x07\x01" + b"\x00\x00\x00\x01x", "dtype code"),
    (b"\x00\x00\x08\x03\x00\x00", "truncated IDX header"),
    (b"", "magic"),
])
def test_bad_headers(buf, match):
    with pytest.raises(IdxFormatError, match=match):
        parse_idx(buf)


def test_payload_size_checked(tmp_path):
    good = idx_bytes(np.ones((3, 4, 4), np.uint8))
    with pytest.raises(IdxFormatError, match="truncated or corrupt"):
        parse_idx(good[:-1])
    with pytest.raises(IdxFormatError, match="truncated or corrupt"):
        parse_idx(good + b"\x00")


def test_truncated_gzip(tmp_path):
    blob = gzip.compress(idx_bytes(np.arange(1000, dtype=np.uint8)))
    (tmp_path / "t.gz").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(IdxFormatError, match="gzip"):
        read_idx(tmp_path / "t.gz")
