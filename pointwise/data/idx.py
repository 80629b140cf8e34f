"""The IDX format of (Fashion-)MNIST, parsed with numpy (gzip-compressed or raw).

Layout: two zero bytes, a dtype code, the number of dimensions ``d``, then ``d`` big-endian
uint32 sizes, then the data, big-endian, C order. Sizes are validated against the payload so
that a truncated or padded file fails here rather than as a silently short dataset.
"""
from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

# dtype code -> big-endian numpy dtype (the IDX spec, http://yann.lecun.com/exdb/mnist/)
IDX_DTYPES = {
    0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"


class IdxFormatError(ValueError):
    """An IDX file is malformed: bad magic number, unknown dtype, or payload size mismatch."""


def read_bytes(path: str | os.PathLike) -> bytes:
    """The file's bytes, gunzipped if it starts with the gzip magic (truncated gzip -> IdxFormatError)."""
    with open(path, "rb") as fh:
        raw = fh.read()
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise IdxFormatError(f"{path}: bad or truncated gzip stream ({exc})") from exc


def parse_idx(buf: bytes, where: str = "<bytes>") -> np.ndarray:
    """Decode one IDX payload into a native-endian array of its declared shape."""
    if len(buf) < 4 or buf[0] != 0 or buf[1] != 0:
        raise IdxFormatError(f"{where}: not an IDX file (magic number {buf[:4].hex() or 'empty'})")
    code, ndim = buf[2], buf[3]
    if code not in IDX_DTYPES:
        raise IdxFormatError(f"{where}: unknown IDX dtype code 0x{code:02x}")
    if ndim == 0:
        raise IdxFormatError(f"{where}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(buf) < header:
        raise IdxFormatError(f"{where}: truncated IDX header")
    dims = tuple(int(d) for d in np.frombuffer(buf, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(buf) - header != expected:
        raise IdxFormatError(f"{where}: payload has {len(buf) - header} bytes, header dims {dims} "
                             f"need {expected} (truncated or corrupt)")
    arr = np.frombuffer(buf, dtype=dtype, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw) into a numpy array; malformed files raise IdxFormatError."""
    return parse_idx(read_bytes(path), where=str(path))


def idx_bytes(arr: np.ndarray) -> bytes:
    """Encode ``arr`` as IDX bytes (the inverse of :func:`parse_idx`; used by tests and tools)."""
    arr = np.asarray(arr)
    codes = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}
    native = arr.dtype.newbyteorder("=")
    if native not in codes:
        raise IdxFormatError(f"dtype {arr.dtype} has no IDX code")
    dt = IDX_DTYPES[codes[native]]
    header = bytes([0, 0, codes[native], arr.ndim]) + np.asarray(arr.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(arr, dtype=dt).tobytes()
