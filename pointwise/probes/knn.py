"""Exact k-nearest-neighbour probes (paper 002 §2.1; spec 002 §3.2 and §5.2).

A k-NN probe at layer l classifies a query by the labels of its k nearest training-split
embeddings (k = 30, Euclidean distance). At paper scale this is a 50k x 45k distance matrix per
layer on up to 65,536 dimensions, so the search is a chunked GEMM plus a top-k on the device:

    ||q - s||^2 = ||q||^2 + ||s||^2 - 2 q.s

Only ``||s||^2 - 2 q.s`` (the *key*) is needed to rank the support for a fixed query; ``||q||^2``
is added to the k selected keys at the end. Norms are computed once, in fp32. Queries are
processed in chunks against the whole support; when the support does not fit the memory budget it
is processed in chunks too, keeping a running top-k that is merged with each new block.

The result is **exact and deterministic**: the k neighbours are the k smallest keys, with equal
keys ordered by lower support index (a lexicographic (key, index) order; ``torch.topk`` alone is
arbitrary among equal values, so rows whose k-th and (k+1)-th keys are equal are resolved
explicitly). "Exact" means exact with respect to the fp32 keys as computed: distances closer than
fp32 rounding (~1e-7 relative to the norms) can be ordered differently from an infinitely precise
computation. ``direct_max_dim`` switches layers of small dimension (e.g. the softmax probe, where
near-one-hot vectors make the norm trick cancel) to direct differences.

Self-exclusion (spec §3.2): a training-split query is not its own neighbour. It is excluded **by
example id**, not by zero distance (near-duplicates exist): its own support position gets an
infinite key before selection, which is the same as retrieving k+1 and dropping the query's id.

Vote (spec §3.2): h(x) = argmax_c n_c over the k neighbour labels, ties broken by ``tie``:
``"nearest"`` (default: the tied class that contains the nearest neighbour) or ``"lowest"`` (the
lowest class index, scikit-learn's KNeighborsClassifier rule).
"""
from __future__ import annotations

import contextlib
import logging
import math
from dataclasses import dataclass

import numpy as np
import torch

log = logging.getLogger("pointwise.probes")

TIE_RULES = ("nearest", "lowest")
PRECISIONS = ("fp32", "tf32")

#: Queries per chunk on CPU: large enough for an efficient GEMM, small enough that the distance
#: block stays within the budget (benchmarks/knn_speed.py).
CPU_QUERY_CHUNK = 4096
GPU_QUERY_CHUNK = 8192
CPU_BUDGET = 2 << 30          # bytes for the distance block (and support copies) on CPU


def label_dtype(num_classes: int) -> np.dtype:
    """uint8 when the labels fit (classes <= 255), else int16/int32."""
    if num_classes <= 255:
        return np.dtype(np.uint8)
    return np.dtype(np.int16) if num_classes <= 32767 else np.dtype(np.int32)


def resolve_device(device=None) -> torch.device:
    """``None``/``"auto"``: the GPU when there is one, else the CPU."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def self_positions(query_ids, support_ids) -> np.ndarray:
    """Support position of each query's own example id, -1 where the query is not in the support.

    This is what self-exclusion removes (spec §3.2: by id, never by zero distance)."""
    query_ids = np.asarray(query_ids, dtype=np.int64)
    support_ids = np.asarray(support_ids, dtype=np.int64)
    if len(np.unique(support_ids)) != len(support_ids):
        raise ValueError("support ids are not unique")
    out = np.full(len(query_ids), -1, dtype=np.int64)
    if len(support_ids) == 0:
        return out
    order = np.argsort(support_ids, kind="stable")
    sorted_ids = support_ids[order]
    pos_c = np.minimum(np.searchsorted(sorted_ids, query_ids), len(sorted_ids) - 1)
    found = sorted_ids[pos_c] == query_ids
    out[found] = order[pos_c[found]]
    return out


@contextlib.contextmanager
def matmul_precision(device: torch.device, precision: str):
    """fp32 ('ieee') or TF32 GEMMs on CUDA for the duration of the block; no-op on CPU."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if device.type != "cuda":
        yield
        return
    m = torch.backends.cuda.matmul
    old = m.allow_tf32
    m.allow_tf32 = precision == "tf32"
    try:
        yield
    finally:
        m.allow_tf32 = old


def _lex_smallest(vals: torch.Tensor, idx: torch.Tensor, k: int):
    """The k smallest (value, index) pairs of each row, in lexicographic order."""
    o = torch.argsort(idx, dim=1)
    vals, idx = vals.gather(1, o), idx.gather(1, o)
    o = torch.sort(vals, dim=1, stable=True).indices[:, :k]
    return vals.gather(1, o), idx.gather(1, o)


def _block_smallest(block: torch.Tensor, k: int, col0: int):
    """The k smallest entries of each row of ``block`` in (value, column) order, exactly.

    ``torch.topk`` returns the right *values* but is arbitrary among equal values; rows whose k-th
    and (k+1)-th values are equal (a tie at the boundary) are redone with the lowest columns among
    the tied values. Returns (values [r, k], support indices [r, k] = column + col0)."""
    r, n = block.shape
    kk = min(k + 1, n)
    v, i = torch.topk(block, kk, dim=1, largest=False, sorted=True)
    if kk > k:
        tie = v[:, k] == v[:, k - 1]
        v, i = v[:, :k], i[:, :k]
        rows = torch.nonzero(tie).flatten()
        if rows.numel():
            b = block.index_select(0, rows)
            tau = v.index_select(0, rows)[:, k - 1:k]                        # the k-th value
            n_lt = (b < tau).sum(1, keepdim=True)                            # all of these are in
            eq = b == tau
            take = eq & (eq.cumsum(1, dtype=torch.int32) <= (k - n_lt))     # lowest-column ties
            keep = (b < tau) | take                                          # exactly k per row
            cols = torch.arange(n, device=block.device).expand(len(rows), n)
            big = torch.full_like(cols, n)
            sel = torch.topk(torch.where(keep, cols, big), k, dim=1, largest=False, sorted=True).values
            v[rows] = b.gather(1, sel)
            i[rows] = sel
    vals, idx = _lex_smallest(v, i + col0, k)
    return vals, idx


def knn_search(queries: torch.Tensor, support: torch.Tensor, k: int, *, exclude=None,
               device=None, query_chunk: int | None = None, support_chunk: int | None = None,
               memory_budget: int | None = None, precision: str = "fp32",
               direct_max_dim: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact k nearest support rows of every query under L2 (spec 002 §5.2).

    queries [n_q, D] and support [n_s, D] (any float dtype, any device; computed in fp32 on
    ``device``, default the GPU when present). ``exclude``: int [n_q], the support position each
    query must not return (its own id, see :func:`self_positions`), -1 for none.
    ``query_chunk``/``support_chunk``/``memory_budget`` (bytes) bound the device memory; by default
    the support is chunked only if it does not fit. ``precision='tf32'`` allows TF32 GEMMs on GPUs
    (a labelled deviation; fp32 is the reference). Layers with D <= ``direct_max_dim`` use direct
    differences instead of the norm expansion.

    Returns (indices int64 [n_q, k], squared distances float32 [n_q, k]) on the CPU, ordered by
    increasing distance, equal distances by increasing support index."""
    dev = resolve_device(device)
    if queries.dim() != 2 or support.dim() != 2 or queries.shape[1] != support.shape[1]:
        raise ValueError(f"queries {tuple(queries.shape)} and support {tuple(support.shape)} must be "
                         "[n, D] with the same D")
    n_q, D = queries.shape
    n_s = support.shape[0]
    excl = None
    if exclude is not None:
        excl = torch.as_tensor(np.asarray(exclude), dtype=torch.int64)
        if excl.shape != (n_q,):
            raise ValueError(f"exclude must have one entry per query ({n_q}), got {tuple(excl.shape)}")
    n_avail = n_s - (1 if excl is not None and bool((excl >= 0).any()) else 0)
    if not 1 <= k <= n_avail:
        raise ValueError(f"k={k} needs 1 <= k <= {n_avail} available support points")
    if n_q == 0:
        return torch.empty(0, k, dtype=torch.int64), torch.empty(0, k)

    if memory_budget is None:
        if dev.type == "cuda":
            free, _ = torch.cuda.mem_get_info(dev)
            memory_budget = int(0.6 * free)
        else:
            memory_budget = CPU_BUDGET
    fbytes = 4
    support_on_dev = support.device == dev
    if support_chunk is None:
        if support_on_dev or n_s * D * fbytes <= memory_budget // 2:
            support_chunk = n_s
        else:
            support_chunk = max(k + 1, (memory_budget // 4) // (D * fbytes))
    support_chunk = int(min(max(support_chunk, 1), n_s))
    if query_chunk is None:
        query_chunk = GPU_QUERY_CHUNK if dev.type == "cuda" else CPU_QUERY_CHUNK
    # the distance block gets up to half the budget (its tie fix-ups and top-k need a little more)
    block_rows = max(1, (memory_budget // 2) // (support_chunk * fbytes * (2 if D <= direct_max_dim else 1)))
    query_chunk = int(max(1, min(query_chunk, block_rows, n_q)))
    direct = D <= direct_max_dim

    best_v = torch.empty(n_q, k, device=dev)
    best_i = torch.empty(n_q, k, dtype=torch.int64, device=dev)
    qn = torch.empty(n_q, device=dev)
    excl_dev = excl.to(dev) if excl is not None else None
    n_sc = math.ceil(n_s / support_chunk)
    # one distance buffer reused by every chunk: fresh allocations of large blocks cost page faults
    block_buf = None if direct else torch.empty(query_chunk * support_chunk, device=dev)
    with torch.no_grad(), matmul_precision(dev, precision):
        for c, s0 in enumerate(range(0, n_s, support_chunk)):
            s = support[s0:s0 + support_chunk].to(dev, torch.float32, non_blocking=True)
            sn = (s * s).sum(1)
            if not torch.isfinite(sn).all():
                raise ValueError("support embeddings contain NaN or inf")
            st = s.t()
            for q0 in range(0, n_q, query_chunk):
                q = queries[q0:q0 + query_chunk].to(dev, torch.float32, non_blocking=True)
                if c == 0:                                  # query norms, once (fp32)
                    qn[q0:q0 + len(q)] = (q * q).sum(1)
                if direct:
                    block = torch.cdist(q, s, compute_mode="donot_use_mm_for_euclid_dist").square_()
                else:
                    block = block_buf[:len(q) * len(s)].view(len(q), len(s))
                    torch.addmm(sn, q, st, alpha=-2.0, out=block)         # ||s||^2 - 2 q.s
                if excl_dev is not None:
                    e = excl_dev[q0:q0 + len(q)] - s0
                    rows = torch.nonzero((e >= 0) & (e < len(s))).flatten()
                    if rows.numel():
                        block[rows, e[rows]] = float("inf")
                kc = min(k, len(s))
                v, i = _block_smallest(block, kc, s0)
                if c == 0:
                    if kc < k:          # first support chunk smaller than k: pad, merged later
                        pad = k - kc
                        v = torch.cat([v, torch.full((len(q), pad), float("inf"), device=dev)], 1)
                        i = torch.cat([i, torch.full((len(q), pad), n_s, dtype=torch.int64, device=dev)], 1)
                    best_v[q0:q0 + len(q)], best_i[q0:q0 + len(q)] = v, i
                else:
                    mv, mi = _lex_smallest(torch.cat([best_v[q0:q0 + len(q)], v], 1),
                                           torch.cat([best_i[q0:q0 + len(q)], i], 1), k)
                    best_v[q0:q0 + len(q)], best_i[q0:q0 + len(q)] = mv, mi
            if n_sc > 1:
                log.debug("support chunk %d/%d done", c + 1, n_sc)
        if not torch.isfinite(qn).all():
            raise ValueError("query embeddings contain NaN or inf")
        dist = best_v if direct else (best_v + qn[:, None]).clamp_min_(0.0)
    return best_i.cpu(), dist.cpu()


def vote_counts(neighbour_labels, num_classes: int) -> np.ndarray:
    """Votes n_c per class: int32 [..., num_classes] from neighbour labels [..., k]."""
    lab = np.asarray(neighbour_labels)
    shape, kk = lab.shape[:-1], lab.shape[-1]
    flat = lab.reshape(-1, kk).astype(np.int64)
    if flat.size and (flat.min() < 0 or flat.max() >= num_classes):
        raise ValueError(f"neighbour labels outside 0..{num_classes - 1}")
    rows = np.arange(flat.shape[0], dtype=np.int64)[:, None] * num_classes
    counts = np.bincount((flat + rows).ravel(), minlength=flat.shape[0] * num_classes)
    return counts.reshape(*shape, num_classes).astype(np.int32)


def vote(neighbour_labels, num_classes: int, tie: str = "nearest") -> np.ndarray:
    """k-NN prediction h(x) = argmax_c n_c (spec §3.2) from neighbour labels [..., k] sorted by
    increasing distance. ``tie='nearest'``: among tied classes the one holding the nearest
    neighbour; ``'lowest'``: the lowest class index (scikit-learn). Returns int16 [...]."""
    if tie not in TIE_RULES:
        raise ValueError(f"tie must be one of {TIE_RULES}, got {tie!r}")
    lab = np.asarray(neighbour_labels)
    counts = vote_counts(lab, num_classes)
    if tie == "lowest":
        return counts.argmax(-1).astype(np.int16)
    top = counts.max(-1, keepdims=True)
    tied = np.take_along_axis(counts, lab.astype(np.int64), axis=-1) == top   # [..., k]
    first = tied.argmax(-1)[..., None]                                          # nearest tied
    return np.take_along_axis(lab, first, axis=-1)[..., 0].astype(np.int16)


def vote_fraction(neighbour_labels, classes) -> np.ndarray:
    """k-NN confidence conf(x, c) = n_c / k for one class per row (spec §3.2, Fig 8):
    neighbour labels [..., k], classes broadcastable to [...]. float64 [...]."""
    lab = np.asarray(neighbour_labels)
    c = np.asarray(classes)[..., None]
    return (lab == c).mean(-1)


@dataclass
class KNNResult:
    """Output of :func:`knn_classify`: neighbour labels [n_q, k] (nearest first), prediction
    int16 [n_q], and optionally neighbour support indices int64 and squared distances [n_q, k]."""
    labels: np.ndarray
    pred: np.ndarray
    indices: np.ndarray | None = None
    sq_distances: np.ndarray | None = None


def knn_classify(queries, support, support_labels, k: int = 30, *, num_classes: int | None = None,
                 tie: str = "nearest", query_ids=None, support_ids=None, exclude=None,
                 return_indices: bool = False, **search_kw) -> KNNResult:
    """k-NN probe of ``queries`` against ``support`` labelled ``support_labels`` (spec §3.2).

    Self-exclusion by id when both ``query_ids`` and ``support_ids`` are given (or pass the
    positions directly as ``exclude``). ``search_kw`` go to :func:`knn_search`."""
    q = torch.as_tensor(queries)
    s = torch.as_tensor(support)
    y = np.asarray(support_labels, dtype=np.int64)
    if len(y) != s.shape[0]:
        raise ValueError(f"{len(y)} support labels for {s.shape[0]} support points")
    if num_classes is None:
        num_classes = int(y.max()) + 1 if len(y) else 1
    if exclude is None and query_ids is not None and support_ids is not None:
        exclude = self_positions(query_ids, support_ids)
    idx, d2 = knn_search(q, s, k, exclude=exclude, **search_kw)
    idx = idx.numpy()
    labels = y[idx].astype(label_dtype(num_classes))
    pred = vote(labels, num_classes, tie)
    return KNNResult(labels, pred, idx if return_indices else None,
                     d2.numpy() if return_indices else None)
