"""Provenance records attached to every HDF5 and CSV output.

A record names the code version, the hash of the configuration that produced the file, the seed,
the sha256 of each input file and the versions of the packages that computed it, so that any
output can be traced back through the DAG (see docs/provenance.md).
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Iterable, Mapping

PACKAGES = ("torch", "numpy", "h5py", "pandas", "scipy", "snakemake")


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 22) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def config_hash(config: Mapping) -> str:
    """Stable short hash of a (JSON-serialisable) configuration mapping."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """``git describe`` of the project checkout (with ``-dirty``), or the package version."""
    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            cwd=root, capture_output=True, text=True, timeout=10,
        )
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    from pointwise import __version__
    return f"pointwise-{__version__}"


@functools.lru_cache(maxsize=1)
def package_versions() -> dict:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def provenance(config: Mapping | None = None, seed: int | Iterable[int] | None = None,
               inputs: Iterable[str | os.PathLike] = (), **extra) -> dict:
    """Build the provenance record for one output file."""
    record = {
        "code_version": code_version(),
        "config_hash": config_hash(config or {}),
        "inputs_sha256": {str(p): sha256_file(p) for p in inputs},
        "package_versions": package_versions(),
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    if seed is not None:
        record["seed"] = seed if isinstance(seed, int) else list(seed)
    record.update(extra)
    return record
