"""Evaluating a model zoo network at a stored checkpoint without touching its own weights, for
the gradient scores (GraNd, VoG; spec 003 §3.1 items 3-4).

A checkpoint is an ordinary ``state_dict`` (``model.pt``'s ``state_dict`` or one entry of
``snapshots.pt``'s ``state_dicts``, docs/training.md). Networks are run with
``torch.func.functional_call`` in **eval mode** (BatchNorm running statistics), as the spec asks,
so examples never interact and per-example quantities are exact.
"""
from __future__ import annotations

import contextlib
from collections.abc import Mapping

import numpy as np
import torch
from torch import nn


def split_state(model: nn.Module, state_dict: Mapping[str, torch.Tensor], dtype: torch.dtype,
                device: torch.device | str | None = None):
    """(trainable params, everything else) of ``state_dict`` as tensors on ``device``; floating
    entries cast to ``dtype``. Trainable = ``model.named_parameters()`` with requires_grad.
    KeyError if the state lacks one of the model's parameters or buffers."""
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    expected = set(dict(model.named_parameters())) | set(dict(model.named_buffers()))
    missing = sorted(expected - set(state_dict))
    if missing:
        raise KeyError(f"checkpoint lacks {missing[:5]}{'...' if len(missing) > 5 else ''}")

    def conv(v):
        v = torch.as_tensor(v).detach().to(device)
        return v.to(dtype) if v.is_floating_point() else v

    params = {k: conv(v) for k, v in state_dict.items() if k in names}
    rest = {k: conv(v) for k, v in state_dict.items() if k not in names and k in expected}
    return params, rest


@contextlib.contextmanager
def eval_mode(model: nn.Module):
    """Put ``model`` in eval mode for the block and restore its previous mode after."""
    was = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was)


def batches(n: int, size: int):
    """Slices covering range(n) in consecutive blocks of ``size``."""
    size = max(1, int(size))
    for s in range(0, n, size):
        yield slice(s, min(n, s + size))


def model_from_checkpoint(ckpt: Mapping):
    """(network, state_dict, preprocess) from a loaded ``model.pt`` mapping
    (``torch.load(path, weights_only=False)``): the architecture rebuilt from ``arch``,
    ``in_shape`` and ``num_classes``, and the run's input preprocessing (a
    :class:`pointwise.train.engine.Preprocess`: uint8 images -> the tensors the network saw
    in evaluation; apply it before GraNd / VoG)."""
    from pointwise.models import build_model
    from pointwise.train.engine import Preprocess

    model = build_model(ckpt["arch"], tuple(ckpt["in_shape"]), int(ckpt["num_classes"]))
    pre = ckpt["preprocess"]
    preprocess = Preprocess(np.asarray(pre["mean"], dtype=np.float32),
                            np.asarray(pre["std"], dtype=np.float32), tuple(pre["pad"]))
    return model, ckpt["state_dict"], preprocess


def snapshot_states(snapshots: Mapping, epochs=None) -> list[tuple[float, Mapping]]:
    """[(epoch, state_dict)] from a loaded ``snapshots.pt`` mapping, all of them or those at the
    given ``epochs`` (matched to 1e-6; KeyError if one is missing)."""
    have = [(float(e), sd) for e, sd in zip(snapshots["epochs"], snapshots["state_dicts"])]
    if epochs is None:
        return have
    out = []
    for e in epochs:
        hit = [h for h in have if abs(h[0] - float(e)) < 1e-6]
        if not hit:
            raise KeyError(f"no snapshot at epoch {e} (have {[h[0] for h in have]})")
        out.append(hit[0])
    return out
