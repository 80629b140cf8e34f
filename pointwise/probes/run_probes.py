"""k-NN probes of one trained run at every probe point: ``knn.h5`` (paper 002 §2.1, spec §3.2, §5.2).

For one seed of an experiment (its ``model.pt``, the dataset and the design row saying which pool
examples it trained on) and for every probe point l = 0 (input) .. L (softmax) of the model:

- embed every query at probe l (batched eval-mode forward passes without gradients), **one layer at
  a time**: embeddings are recomputed for each layer and never all held at once, never written;
- queries: the run's training split (first, in row order), its held-out pool examples, and the
  dataset's test split; the support is the training split with the labels the run was trained on
  (the dataset's ``labels``: the noisy labels of a label-noise variant, spec §3.2);
- k nearest neighbours of every query (training queries exclude themselves by id), exact L2
  (:mod:`pointwise.probes.knn`).

``knn.h5`` (written atomically):

- ``neighbour_labels`` uint8 [L+1, N_q, k] (gzip), nearest first: enough to recompute any vote,
  any class's confidence and any tie rule later (spec §5.2);
- ``knn_pred`` int16 [L+1, N_q] with the file's tie rule;
- ``query_ids``, ``query_rows`` (row in its dataset file), ``query_split`` uint8 (0 train,
  1 held_out, 2 test; attribute ``split_names``), ``labels`` (given), ``labels_orig`` when the
  dataset has them, ``net_pred`` int16 and ``logits`` float32 [N_q, C] of the network;
- optional ``neighbour_indices`` int32 [L+1, N_q, k]: positions in the support = the training
  queries (debug output);
- optional ``input_margin`` float64 [N_q]: the linearised input margin (spec §3.7) of the queries
  of the splits named by ``input_margin_splits`` (NaN for the others), computed batched on the
  device (:func:`pointwise.depth.margins.input_margin`);
- attributes: probe_names, probe_dims, k, tie, metric, exclude_self, precision, num_classes,
  seed_index, run_seed, dataset, softmax_disagreement, input_margin_splits and the provenance
  record.
"""
from __future__ import annotations

import json
import logging
import time

import h5py
import numpy as np
import torch

from pointwise.data.store import read_dataset
from pointwise.designs import read_design
from pointwise.io import as_list, atomic_path, set_h5_attrs
from pointwise.logs import log_to
from pointwise.models import build_model
from pointwise.probes.knn import (TIE_RULES, knn_search, label_dtype, resolve_device,
                                  self_positions, vote)
from pointwise.provenance import provenance
from pointwise.train.engine import Preprocess

log = logging.getLogger("pointwise.probes")

SPLIT_NAMES = ("train", "held_out", "test")
TRAIN, HELD_OUT, TEST = 0, 1, 2


def load_checkpoint(path, device="cpu"):
    """(model in eval mode on ``device``, Preprocess, checkpoint dict) of a ``model.pt``."""
    ck = torch.load(path, map_location="cpu", weights_only=False)
    model = build_model(ck["arch"], tuple(ck["in_shape"]), int(ck["num_classes"]))
    model.load_state_dict(ck["state_dict"])
    model.to(device).eval()
    p = ck["preprocess"]
    pre = Preprocess(np.asarray(p["mean"], np.float32), np.asarray(p["std"], np.float32), tuple(p["pad"]))
    return model, pre, ck


def query_set(data_path, design_path, seed: int, test_split: str | None = "test",
              test_data=None) -> dict:
    """The queries of run ``seed``: rows/ids/labels/images of its training split (the support, in
    row order, as the engine trains on them), its held-out pool examples, then the test split."""
    ds = read_dataset(data_path)
    des = read_design(design_path)
    if not 0 <= seed < len(des["train_mask"]):
        raise ValueError(f"seed {seed} is not in the design ({len(des['train_mask'])} runs)")
    if not np.array_equal(ds.ids[des["pool_rows"]], des["pool_ids"]):
        raise ValueError(f"design {design_path} does not belong to dataset {data_path} (pool ids differ)")
    mask = des["train_mask"][seed]
    train_rows = np.sort(des["pool_rows"][mask])
    held_rows = np.sort(des["pool_rows"][~mask])
    parts = [(ds, train_rows, TRAIN), (ds, held_rows, HELD_OUT)]
    if test_split is not None:
        tds = ds if test_data is None else read_dataset(test_data)
        if test_split in tds.split_names:
            parts.append((tds, tds.split_index(test_split), TEST))
        else:
            log.warning("dataset %s has no split '%s': no test queries", tds.name, test_split)
    out = {k: [] for k in ("images", "rows", "ids", "labels", "labels_orig", "split")}
    for d, rows, code in parts:
        out["images"].append(d.images[rows])
        out["rows"].append(rows.astype(np.int64))
        out["ids"].append(d.ids[rows])
        out["labels"].append(d.labels[rows])
        orig = d.extras.get("labels_orig")
        out["labels_orig"].append(np.asarray(orig)[rows] if orig is not None else d.labels[rows])
        out["split"].append(np.full(len(rows), code, dtype=np.uint8))
    q = {k: np.concatenate(v) for k, v in out.items()}
    q["n_train"] = len(train_rows)
    q["has_labels_orig"] = "labels_orig" in ds.extras
    q["num_classes"] = ds.num_classes
    q["dataset"] = ds.name
    return q


@torch.no_grad()
def embed(model, pre, images: np.ndarray, name: str, device, batch_size: int,
          out: torch.Tensor | None = None, channels_last: bool = False):
    """Activations at probe ``name`` of every image, flattened: float32 [N, D] written into
    ``out`` (allocated on the CPU when None), plus the logits [N, C] of the same passes."""
    logits_all = None
    for i in range(0, len(images), batch_size):
        x = pre(torch.from_numpy(images[i:i + batch_size]).to(device))
        if channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        logits, acts = model.forward_with_probes(x, [name])
        a = acts[name]
        if out is None:
            out = torch.empty(len(images), a.shape[1], dtype=torch.float32)
        if logits_all is None:
            logits_all = torch.empty(len(images), logits.shape[1], dtype=torch.float32)
        out[i:i + len(a)] = a.float()
        logits_all[i:i + len(a)] = logits.float().cpu()
    return out, logits_all


def probe_dims(model, pre, image: np.ndarray, device) -> list[int]:
    """Flattened dimension of every probe point (one forward pass of one image)."""
    with torch.no_grad():
        _, acts = model.forward_with_probes(pre(torch.from_numpy(image[None]).to(device)))
    return [int(acts[n].shape[1]) for n in model.probe_names]


def probe_block(checkpoints, data, design, outs, seeds, **kwargs) -> list[dict]:
    """:func:`run_probes` of a block of runs of one experiment in one job (one ``knn.h5`` per
    checkpoint, in order): grouping runs keeps the per-job start-up cost off small runs.
    ``checkpoints``, ``outs`` and ``seeds`` are parallel (a single path is one run)."""
    checkpoints, outs, seeds = as_list(checkpoints), as_list(outs), as_list(seeds)
    return [run_probes(ck, data, design, out, int(seed), **kwargs)
            for ck, out, seed in zip(checkpoints, outs, seeds, strict=True)]


def run_probes(checkpoint, data, design, out, seed: int | None = None, *, k: int = 30,
               tie: str = "nearest", exclude_self: bool = True, probes: list[str] | None = None,
               test_split: str | None = "test", test_data=None, batch_size: int | None = None,
               device="auto", precision: str = "fp32", query_chunk: int | None = None,
               support_chunk: int | None = None, memory_budget: int | None = None,
               direct_max_dim: int = 0, return_indices: bool = False, threads: int | None = None,
               input_margin_splits=(), config: dict | None = None, log_path=None) -> dict:
    """Write ``knn.h5`` for run ``seed`` (default: the seed index in the checkpoint's provenance)
    of the experiment whose design is ``design`` (see the module docstring). ``probes``: a subset
    of the model's probe names (default all, input..softmax). ``input_margin_splits``: query
    splits (names of ``SPLIT_NAMES``) whose input margin is stored. Returns a summary dict."""
    log_to(log_path)
    if tie not in TIE_RULES:
        raise ValueError(f"tie must be one of {TIE_RULES}, got {tie!r}")
    margin_codes = [SPLIT_NAMES.index(s) for s in _known_splits(input_margin_splits)]
    t_start = time.time()
    dev = resolve_device(device)
    if dev.type == "cpu" and threads:
        torch.set_num_threads(int(threads))
    model, pre, ck = load_checkpoint(checkpoint, dev)
    ck_seed = ck.get("provenance", {}).get("seed_index")
    if seed is None:
        if ck_seed is None:
            raise ValueError(f"{checkpoint} records no seed_index; pass seed=")
        seed = int(ck_seed)
    elif ck_seed is not None and int(ck_seed) != int(seed):
        raise ValueError(f"{checkpoint} is seed {ck_seed}, not seed {seed}")
    names = list(model.probe_names if probes is None else probes)
    unknown = [n for n in names if n not in model.probe_names]
    if unknown:
        raise KeyError(f"model has no probe points {unknown}; it has {model.probe_names}")
    channels_last = dev.type == "cuda"
    if channels_last:
        model.to(memory_format=torch.channels_last)
    batch_size = batch_size or (1024 if dev.type == "cuda" else 256)

    q = query_set(data, design, seed, test_split, test_data)
    n_q, n_tr = len(q["ids"]), q["n_train"]
    C = int(ck["num_classes"])
    if C != q["num_classes"]:
        raise ValueError(f"checkpoint has {C} classes, dataset {q['num_classes']}")
    y_support = q["labels"][:n_tr]
    excl = None
    if exclude_self:
        excl = np.full(n_q, -1, dtype=np.int64)
        excl[:n_tr] = self_positions(q["ids"][:n_tr], q["ids"][:n_tr])     # by example id
    dims_all = probe_dims(model, pre, q["images"][0], dev)
    dims = [dims_all[model.probe_names.index(n)] for n in names]
    log.info("k-NN probes of %s (seed %d): %d queries (%d train, %d held-out, %d test) against %d "
             "training examples, k=%d, %d probes %s on %s", checkpoint, seed, n_q, n_tr,
             int((q["split"] == HELD_OUT).sum()), int((q["split"] == TEST).sum()), n_tr, k,
             len(names), dict(zip(names, dims)), dev)

    L1 = len(names)
    ldt = label_dtype(C)
    nb_labels = np.zeros((L1, n_q, k), dtype=ldt)
    nb_index = np.zeros((L1, n_q, k), dtype=np.int32) if return_indices else None
    knn_pred = np.zeros((L1, n_q), dtype=np.int16)
    logits = None
    for li, name in enumerate(names):
        t0 = time.time()
        D = dims[li]
        on_dev = dev.type == "cuda" and _fits(dev, n_q * D * 4, memory_budget)
        buf = torch.empty(n_q, D, dtype=torch.float32, device=dev if on_dev else "cpu",
                          pin_memory=dev.type == "cuda" and not on_dev)
        if name == "input" and logits is not None:
            for i in range(0, n_q, batch_size):
                buf[i:i + batch_size] = pre(torch.from_numpy(q["images"][i:i + batch_size]).to(dev)).flatten(1)
        elif name == "softmax" and logits is not None:
            buf.copy_(torch.softmax(logits, dim=1))
        else:
            _, lg = embed(model, pre, q["images"], name, dev, batch_size, out=buf, channels_last=channels_last)
            if logits is None:
                logits = lg
        t1 = time.time()
        idx, _ = knn_search(buf, buf[:n_tr], k, exclude=excl, device=dev, query_chunk=query_chunk,
                            support_chunk=support_chunk, memory_budget=memory_budget,
                            precision=precision, direct_max_dim=direct_max_dim)
        del buf
        idx = idx.numpy()
        nb_labels[li] = y_support[idx].astype(ldt)
        if nb_index is not None:
            nb_index[li] = idx
        knn_pred[li] = vote(nb_labels[li], C, tie)
        accs = {s: float((knn_pred[li][q["split"] == c] == q["labels"][q["split"] == c]).mean())
                for c, s in enumerate(SPLIT_NAMES) if (q["split"] == c).any()}
        log.info("probe %d/%d %s (dim %d): embed %.1fs, k-NN %.1fs; k-NN accuracy %s", li + 1, L1,
                 name, D, t1 - t0, time.time() - t1, " ".join(f"{s} {a:.4f}" for s, a in accs.items()))
    if logits is None:   # only input/softmax requested: one plain pass for the logits
        _, logits = embed(model, pre, q["images"], model.probe_names[0], dev, batch_size,
                          channels_last=channels_last)
    net_pred = logits.argmax(1).numpy().astype(np.int16)
    margin = None
    if margin_codes:
        t0 = time.time()
        margin = query_input_margins(model, pre, q["images"], np.isin(q["split"], margin_codes), dev,
                                     batch_size)
        log.info("input margin of %d queries (%s) in %.1fs", int(np.isfinite(margin).sum()),
                 list(input_margin_splits), time.time() - t0)
    disagree = int((knn_pred[names.index("softmax")] != net_pred).sum()) if "softmax" in names else -1

    attrs = {
        "probe_names": names, "probe_dims": dims, "k": int(k), "tie": tie, "metric": "euclidean",
        "exclude_self": bool(exclude_self), "precision": precision, "direct_max_dim": int(direct_max_dim),
        "num_classes": C, "seed_index": int(seed),
        "run_seed": int(ck.get("provenance", {}).get("seed", -1)),
        "dataset": q["dataset"], "split_names": list(SPLIT_NAMES),
        "support": "training split of the run (query_split == 0), labels = the given labels",
        "softmax_disagreement": disagree, "arch_name": str(ck.get("arch_name", "")),
        "input_margin_splits": list(input_margin_splits),
        "layout": "neighbour_labels[probe, query, rank], nearest first; equal distances: lower "
                  "support index first; support index = position among the train queries",
    }
    inputs = [checkpoint, data, design] + ([test_data] if test_data else [])
    prov = provenance(config, seed=attrs["run_seed"] if attrs["run_seed"] >= 0 else None,
                      inputs=inputs, device=str(dev))
    with atomic_path(out) as tmp:
        with h5py.File(tmp, "w") as f:
            f.create_dataset("neighbour_labels", data=nb_labels, compression="gzip", compression_opts=4,
                             chunks=(1, min(n_q, 8192), k))
            f.create_dataset("knn_pred", data=knn_pred, compression="gzip", compression_opts=4)
            if nb_index is not None:
                f.create_dataset("neighbour_indices", data=nb_index, compression="gzip",
                                 compression_opts=4, chunks=(1, min(n_q, 8192), k))
            f.create_dataset("query_ids", data=q["ids"])
            f.create_dataset("query_rows", data=q["rows"])
            f.create_dataset("query_split", data=q["split"])
            f.create_dataset("labels", data=q["labels"])
            if q["has_labels_orig"]:
                f.create_dataset("labels_orig", data=q["labels_orig"])
            f.create_dataset("net_pred", data=net_pred)
            f.create_dataset("logits", data=logits.numpy(), compression="gzip", compression_opts=4)
            if margin is not None:
                f.create_dataset("input_margin", data=margin)
            set_h5_attrs(f, {**attrs, **prov})
    log.info("wrote %s: %d probes x %d queries x k=%d in %.1fs; softmax probe disagrees with the "
             "network on %d queries", out, L1, n_q, k, time.time() - t_start, disagree)
    return {"n_queries": n_q, "n_train": n_tr, "probes": names, "softmax_disagreement": disagree,
            "seconds": time.time() - t_start}


def _known_splits(names) -> list[str]:
    bad = [n for n in names if n not in SPLIT_NAMES]
    if bad:
        raise ValueError(f"unknown query splits {bad}; expected names of {SPLIT_NAMES}")
    return list(names)


def query_input_margins(model, pre, images: np.ndarray, select: np.ndarray, device,
                        batch_size: int) -> np.ndarray:
    """Linearised input margin (spec §3.7) of the ``select``-ed images in the model's preprocessed
    input space, batched on ``device``; float64 [N] with NaN where not selected."""
    from pointwise.depth.margins import input_margin

    out = np.full(len(images), np.nan)
    rows = np.flatnonzero(select)
    for i in range(0, len(rows), batch_size):
        r = rows[i:i + batch_size]
        x = pre(torch.from_numpy(images[r]).to(device))
        out[r] = input_margin(model, x, batch_size=len(r), device=device)
    return out


def _fits(dev, nbytes, budget) -> bool:
    free = torch.cuda.mem_get_info(dev)[0] if budget is None else budget
    return nbytes <= 0.4 * free


def read_knn(path) -> dict:
    """All arrays of a ``knn.h5`` plus its attributes (JSON attributes decoded) under ``attrs``."""
    out = {}
    with h5py.File(path, "r") as f:
        for key in f:
            out[key] = f[key][()]
        attrs = {}
        for key, v in f.attrs.items():
            if isinstance(v, bytes):
                v = v.decode()
            if isinstance(v, str) and v[:1] in "[{":
                try:
                    v = json.loads(v)
                except ValueError:
                    pass
            attrs[key] = v.item() if isinstance(v, np.generic) else v
        out["attrs"] = attrs
    return out
