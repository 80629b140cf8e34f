"""Restricting evaluation to a benchmark's class subset ("subclassed" accuracy), as for
ImageNet-R (200 classes) and ObjectNet (overlapping classes) after Taori et al. (paper 001
§5.1, Figs. 3c,d, 9; spec §3.2).

Both the ID and the OOD accuracy are subclassed: predictions are the argmax over the subset's
logits only, and ID accuracy counts only the ID examples whose label is in the subset.
"""
from __future__ import annotations

import numpy as np


def restrict_to_classes(logits, labels, classes) -> tuple[np.ndarray, np.ndarray]:
    """``(pred, keep)``: predictions in the original label space using only the logits of
    ``classes`` ([..., N]), and the mask of examples whose label lies in ``classes`` ([N])."""
    z = np.asarray(logits)
    cls = np.asarray(classes, dtype=np.int64)
    if cls.size == 0 or (cls < 0).any() or (cls >= z.shape[-1]).any():
        raise ValueError("class subset empty or out of range")
    pred = cls[z[..., cls].argmax(-1)]
    keep = np.isin(np.asarray(labels), cls)
    return pred, keep


def subclassed_accuracy(logits, labels, classes) -> np.ndarray:
    """Accuracy over the examples of ``classes`` with the argmax restricted to them ([...])."""
    pred, keep = restrict_to_classes(logits, labels, classes)
    if not keep.any():
        raise ValueError("no example has a label in the class subset")
    return (pred[..., keep] == np.asarray(labels)[keep]).mean(-1)
