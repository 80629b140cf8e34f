"""k-NN probes against logistic-regression probes, layer by layer (paper 002 App. E, Fig E.48).

For one trained run, at every probe point (input .. softmax) of its model, on the embeddings of its
training split (the support of its k-NN probes, with the labels it was trained on), optionally a
random subsample of ``max_rows`` of them:

- ``knn_train``: the k-NN probe's accuracy on those examples, each query excluding itself (what
  ``knn.h5`` measures on the training split);
- ``lr_train``: a logistic-regression probe (:mod:`pointwise.probes.logistic`) fitted on all of them
  and evaluated on the same examples (the paper: it separates the training set completely after
  the first conv);
- ``lr_half``: a logistic-regression probe fitted on a random half and evaluated on the other half;
- ``knn_half``: the k-NN probe with the same fitting half as support, evaluated on the other half.

Embeddings are computed one layer at a time on the device (never all held at once, never written).
The halves and the subsample are drawn with ``numpy.random.default_rng(split_seed)``.
"""
from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd
import torch

from pointwise.probes.knn import knn_search, resolve_device, vote
from pointwise.probes.logistic import fit_logistic_probe

log = logging.getLogger("pointwise.depth")

METHODS = ("knn_train", "lr_train", "knn_half", "lr_half")
COLUMNS = ["probe_index", "probe", "dim", "method", "accuracy", "n_fit", "n_eval", "lr_loss",
           "lr_iterations"]


def rows_and_halves(n: int, max_rows: int | None, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(selected rows [m] sorted, fitting half, evaluation half as positions in the selection)."""
    rng = np.random.default_rng(seed)
    rows = np.arange(n) if not max_rows or n <= max_rows else np.sort(rng.choice(n, int(max_rows), replace=False))
    perm = rng.permutation(len(rows))
    h = len(rows) // 2
    return rows, np.sort(perm[:h]), np.sort(perm[h:])


def probe_comparison(emb: torch.Tensor, y: np.ndarray, num_classes: int, fit: np.ndarray,
                     ev: np.ndarray, *, k: int, tie: str, l2: float, max_iter: int, device) -> list[dict]:
    """The four accuracies of the module docstring on one layer's embeddings ``emb`` [n, D]."""
    n = len(y)
    out = []
    idx, _ = knn_search(emb, emb, k, exclude=np.arange(n), device=device)
    out.append({"method": "knn_train", "accuracy": float((vote(y[idx.numpy()], num_classes, tie) == y).mean()),
                "n_fit": n, "n_eval": n})
    lr = fit_logistic_probe(emb, y, num_classes, l2=l2, max_iter=max_iter, device=device)
    out.append({"method": "lr_train", "accuracy": lr.accuracy(emb, y), "n_fit": n, "n_eval": n,
                "lr_loss": lr.loss, "lr_iterations": lr.iterations})
    fit_t = torch.as_tensor(fit, device=emb.device)
    ev_t = torch.as_tensor(ev, device=emb.device)
    e_fit, e_ev = emb[fit_t], emb[ev_t]
    idx, _ = knn_search(e_ev, e_fit, k, device=device)
    out.append({"method": "knn_half", "accuracy": float((vote(y[fit][idx.numpy()], num_classes, tie) == y[ev]).mean()),
                "n_fit": len(fit), "n_eval": len(ev)})
    lr = fit_logistic_probe(e_fit, y[fit], num_classes, l2=l2, max_iter=max_iter, device=device)
    out.append({"method": "lr_half", "accuracy": lr.accuracy(e_ev, y[ev]), "n_fit": len(fit),
                "n_eval": len(ev), "lr_loss": lr.loss, "lr_iterations": lr.iterations})
    return out


def lr_vs_knn(checkpoint, data, design, seed: int, *, k: int = 30, tie: str = "nearest",
              l2: float = 1e-4, max_iter: int = 100, max_rows: int | None = None, split_seed: int = 0,
              device="auto", threads: int | None = None, batch_size: int | None = None) -> pd.DataFrame:
    """The Fig E.48 table (``COLUMNS``) of run ``seed`` (its ``model.pt``, dataset and design)."""
    from pointwise.probes.run_probes import embed, load_checkpoint, query_set

    dev = resolve_device(device)
    if dev.type == "cpu" and threads:
        torch.set_num_threads(int(threads))
    model, pre, ck = load_checkpoint(checkpoint, dev)
    q = query_set(data, design, seed, test_split=None)
    n_tr = q["n_train"]
    rows, fit, ev = rows_and_halves(n_tr, max_rows, split_seed)
    images = q["images"][:n_tr][rows]
    y = q["labels"][:n_tr][rows].astype(np.int64)
    C = int(ck["num_classes"])
    batch_size = batch_size or (1024 if dev.type == "cuda" else 256)
    log.info("LR vs k-NN probes of %s (seed %d): %d of %d training examples, halves %d/%d, k=%d, l2=%g, "
             "max_iter=%d, on %s", checkpoint, seed, len(rows), n_tr, len(fit), len(ev), k, l2, max_iter, dev)
    out = []
    for li, name in enumerate(model.probe_names):
        t0 = time.time()
        with torch.no_grad():
            probe = model.forward_with_probes(pre(torch.from_numpy(images[:1]).to(dev)), [name])[1][name]
        buf = torch.empty(len(images), probe.shape[1], dtype=torch.float32, device=dev)
        emb, _ = embed(model, pre, images, name, dev, batch_size, out=buf)
        res = probe_comparison(emb, y, C, fit, ev, k=k, tie=tie, l2=l2, max_iter=max_iter, device=dev)
        del emb, buf
        for r in res:
            out.append({"probe_index": li, "probe": name, "dim": int(probe.shape[1]), **r})
        log.info("probe %d %s (dim %d) in %.1fs: %s", li, name, int(probe.shape[1]), time.time() - t0,
                 " ".join(f"{r['method']} {r['accuracy']:.4f}" for r in res))
    return pd.DataFrame(out).reindex(columns=COLUMNS)
