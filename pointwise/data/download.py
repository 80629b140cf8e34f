"""Optional downloads through torchvision, for machines with network access (clusters).

torchvision is not a dependency of the workflow: it is imported only here, inside the call, and
its absence raises :class:`DataMissingError` with instructions. Files are fetched into a temporary
folder inside the target directory and moved into place only when complete, in the layout the
readers expect (``fashion_mnist``: the four IDX .gz files in DIR; ``cifar10``:
DIR/cifar-10-batches-py/; ``cifar100``: DIR/cifar-100-python/; ``svhn``: DIR/*_32x32.mat).

CLI (used by the setup script when the Debian package is unavailable)::

    python -m pointwise.data.download fashion_mnist /path/to/dir
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from pointwise.data.errors import DataMissingError

SOURCES = ("fashion_mnist", "cifar10", "cifar100", "svhn")


def _how(source: str) -> str:
    from pointwise.data import build   # the readers' instructions (import here: build imports us)
    return build.how_to_obtain(source, source)


def _torchvision(source: str, root):
    try:
        import torchvision  # optional dependency: only downloads need it
    except ImportError as exc:
        raise DataMissingError(
            source, root, _how(source),
            detail="torchvision is not installed, so it cannot be downloaded here; "
                   "`pip install torchvision` on a machine with network access") from exc
    return torchvision


def download(source: str, root, include_extra: bool = False) -> Path:
    """Fetch ``source`` (one of SOURCES) into directory ``root``; return ``root``.

    Files already in place are kept. On any failure nothing new is left in ``root`` (nor ``root``
    itself if this call created it), and DataMissingError explains what to do."""
    if source not in SOURCES:
        raise ValueError(f"no download for '{source}'; downloadable: {', '.join(SOURCES)}")
    root = Path(root)
    tv = _torchvision(source, root)
    created, tmp = not root.exists(), None
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".download-", dir=root))
        for produced, final in _fetch(tv, source, tmp, root, include_extra):
            _place(produced, final)
    except Exception as exc:  # permissions, network, checksum or disk errors
        if created:
            shutil.rmtree(root, ignore_errors=True)
        raise DataMissingError(source, root, _how(source),
                               detail=f"download failed: {type(exc).__name__}: {exc}") from exc
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return root


def _place(produced: Path, final: Path) -> None:
    """Move a complete file or folder into place; never overwrite what is already there."""
    if not final.exists():
        os.replace(produced, final)
    elif produced.is_dir() and final.is_dir():
        for child in sorted(produced.iterdir()):
            _place(child, final / child.name)


def _fetch(tv, source: str, tmp: Path, root: Path, include_extra: bool) -> list[tuple[Path, Path]]:
    """Download into ``tmp``; return (file or folder produced, final location) pairs."""
    ds = tv.datasets
    if source == "fashion_mnist":
        for train in (True, False):
            ds.FashionMNIST(str(tmp), train=train, download=True)
        raw = tmp / "FashionMNIST" / "raw"
        return [(raw / f, root / f) for f in sorted(os.listdir(raw)) if f.endswith(".gz")]
    if source in ("cifar10", "cifar100"):
        cls, folder = (ds.CIFAR10, "cifar-10-batches-py") if source == "cifar10" else (ds.CIFAR100, "cifar-100-python")
        cls(str(tmp), train=True, download=True)            # one archive holds both splits
        if root.name == folder:   # DIR is the extracted folder itself: put the batch files in it
            return [(tmp / folder / f, root / f) for f in sorted(os.listdir(tmp / folder))]
        return [(tmp / folder, root / folder)]
    splits = ["train", "test"] + (["extra"] if include_extra else [])
    for split in splits:
        ds.SVHN(str(tmp), split=split, download=True)
    return [(tmp / f"{s}_32x32.mat", root / f"{s}_32x32.mat") for s in splits]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pointwise.data.download",
                                     description="Download a dataset with torchvision into DIR, "
                                                 "in the layout pointwise's readers expect.")
    parser.add_argument("name", choices=SOURCES)
    parser.add_argument("dir")
    parser.add_argument("--include-extra", action="store_true", help="SVHN: also extra_32x32.mat")
    args = parser.parse_args(argv)
    try:
        path = download(args.name, args.dir, include_extra=args.include_extra)
    except DataMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.name}: files in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
