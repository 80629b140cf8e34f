"""Figures: one function per figure, reading tables and returning a matplotlib Figure."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")


def save(fig, pdf_path: str, png_path: str | None = None, dpi: int = 150) -> None:
    """Write a figure as PDF (and PNG) atomically."""
    from pointwise.io import atomic_path

    for path, kw in ((pdf_path, {}), (png_path, {"dpi": dpi})):
        if path:
            with atomic_path(path) as tmp:
                fig.savefig(tmp, format=str(path).rsplit(".", 1)[-1], bbox_inches="tight", **kw)
