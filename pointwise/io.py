"""Atomic file writes and provenance-carrying HDF5/CSV helpers.

Every output is written to a temporary sibling and renamed into place, so a killed job never
leaves a half-written file under the final name.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Iterator, Mapping

import pandas as pd

PROVENANCE_PREFIX = "# provenance: "


def as_list(x) -> list:
    """One value (a path, a number) or several (a Snakemake input/output list), as a list."""
    return [x] if isinstance(x, (str, bytes, os.PathLike)) or not hasattr(x, "__iter__") else list(x)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def set_h5_attrs(h5obj, attrs: Mapping) -> None:
    """Store a mapping as HDF5 attributes; nested or non-scalar values are stored as JSON text."""
    for key, value in attrs.items():
        if isinstance(value, (str, int, float, bool)):
            h5obj.attrs[key] = value
        else:
            h5obj.attrs[key] = json.dumps(value, sort_keys=True, default=str)


def write_csv(df: pd.DataFrame, path: str | os.PathLike, provenance: Mapping | None = None) -> None:
    """Write ``df`` atomically; provenance goes in one leading ``# provenance: {json}`` line."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="") as fh:
            if provenance is not None:
                fh.write(PROVENANCE_PREFIX + json.dumps(provenance, sort_keys=True, default=str) + "\n")
            df.to_csv(fh, index=False)


def read_csv(path: str | os.PathLike) -> pd.DataFrame:
    """Read a table written by :func:`write_csv` (skips the provenance line)."""
    with open(path) as fh:
        first = fh.readline()
    skip = 1 if first.startswith(PROVENANCE_PREFIX) else 0
    return pd.read_csv(path, skiprows=skip)


def read_csv_provenance(path: str | os.PathLike) -> dict:
    """Return the provenance mapping stored in a CSV's first line ({} if none)."""
    with open(path) as fh:
        first = fh.readline()
    if first.startswith(PROVENANCE_PREFIX):
        return json.loads(first[len(PROVENANCE_PREFIX):])
    return {}
