"""k-NN probe speed (paper 002, spec §5.2): our exact chunked-GEMM k-NN against scikit-learn's
brute-force KNeighborsClassifier and against the bare distance GEMM on the same machine.

    python benchmarks/knn_speed.py                       # 10k queries x 10k support x 784 dims
    python benchmarks/knn_speed.py --tune 512 1024 2048 4096   # query-chunk sweep
    python benchmarks/knn_speed.py --no-sklearn --device cuda   # GPU: + fraction of TF32 GEMM rate

Reports (a) our time vs sklearn (n_jobs = threads) and whether the predictions are identical
(tie rule 'lowest' = sklearn's; any difference is checked against fp32 near-ties at the k-th
neighbour), (b) our time as a multiple of ``torch.mm`` of the same shapes (the GEMM floor; CPU goal
<= 1.3x), (c) on a GPU, achieved TFLOP/s as a fraction of the device's measured TF32 GEMM rate.
Timings are the minimum over ``--repeats`` interleaved runs (the dev machines are shared).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pointwise.probes.knn import knn_classify, knn_search  # noqa: E402


def data(nq, ns, dim, classes, seed=0):
    """A Gaussian mixture: class structure like real embeddings, no exact distance ties."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1.0, size=(classes, dim)).astype(np.float32)
    ys, yq = rng.integers(0, classes, ns), rng.integers(0, classes, nq)
    S = centres[ys] + rng.normal(0, 1.5, size=(ns, dim)).astype(np.float32)
    Q = centres[yq] + rng.normal(0, 1.5, size=(nq, dim)).astype(np.float32)
    return Q, S, ys


CPU_TIMES = {}


def timed(fn, sync, tag=None):
    """Wall seconds (and, under ``tag``, the process CPU seconds: robust on a loaded machine)."""
    sync()
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    sync()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    if tag:
        CPU_TIMES.setdefault(tag, []).append(cpu)
    return wall, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nq", type=int, default=10_000)
    ap.add_argument("--ns", type=int, default=10_000)
    ap.add_argument("--dim", type=int, default=784)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--k", type=int, default=30)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--query-chunk", type=int, default=None)
    ap.add_argument("--tune", type=int, nargs="*", default=None, help="query chunk sizes to sweep")
    ap.add_argument("--no-sklearn", action="store_true")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    dev = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                       ("cpu" if args.device == "auto" else args.device))
    sync = (lambda: torch.cuda.synchronize(dev)) if dev.type == "cuda" else (lambda: None)
    Q, S, ys = data(args.nq, args.ns, args.dim, args.classes)
    Qt, St = torch.from_numpy(Q).to(dev), torch.from_numpy(S).to(dev)
    flop = 2.0 * args.nq * args.ns * args.dim
    print(f"device {dev} ({torch.cuda.get_device_name(dev) if dev.type == 'cuda' else f'{args.threads} threads'}); "
          f"{args.nq} queries x {args.ns} support x {args.dim} dims, {args.classes} classes, k={args.k}")

    def ours(qc=args.query_chunk, precision="fp32"):
        return knn_classify(Qt, St, ys, k=args.k, num_classes=args.classes, tie="lowest", device=dev,
                            query_chunk=qc, precision=precision)

    def gemm():
        return torch.mm(Qt, St.T)

    ours()                                                   # warm-up
    gemm()
    t_ours, t_gemm = [], []
    for _ in range(args.repeats):                            # interleaved: same machine load
        t_gemm.append(timed(gemm, sync, "gemm")[0])
        t, res = timed(ours, sync, "ours")
        t_ours.append(t)
    t_o, t_g = min(t_ours), min(t_gemm)
    rows = [("bare GEMM torch.mm (floor)", t_g, flop / t_g), ("ours: exact k-NN + vote (fp32)", t_o, flop / t_o)]

    if args.tune:
        print("\nquery-chunk sweep (min of repeats; GEMM floor %.3fs):" % t_g)
        for qc in args.tune:
            ts = [timed(lambda: ours(qc), sync, f"qc{qc}")[0] for _ in range(args.repeats)]
            cpu = min(CPU_TIMES[f"qc{qc}"]) / min(CPU_TIMES["gemm"]) if dev.type == "cpu" else float("nan")
            print(f"  query_chunk {qc:6d}: {min(ts):.3f}s = {min(ts) / t_g:.2f}x GEMM wall, "
                  f"{cpu:.2f}x GEMM CPU time")

    same = None
    if not args.no_sklearn:
        from sklearn.neighbors import KNeighborsClassifier
        clf = KNeighborsClassifier(n_neighbors=args.k, algorithm="brute", n_jobs=args.threads)
        ts = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            skl = clf.fit(S, ys).predict(Q)
            ts.append(time.perf_counter() - t0)
        rows.append((f"sklearn brute (n_jobs={args.threads})", min(ts), flop / min(ts)))
        diff = np.flatnonzero(res.pred != skl)
        same = len(diff) == 0
        if not same:   # explain: fp32 near-ties at the k-th neighbour (sklearn ranks in float64)
            idx, d2 = knn_search(torch.from_numpy(Q[diff]).double(), torch.from_numpy(S).double(),
                                 args.k + 1, device="cpu")
            gap = (d2[:, -1] - d2[:, -2]) / d2[:, -2]
            print(f"{len(diff)} predictions differ; relative gap at the k-th neighbour: "
                  f"{gap.numpy().round(8).tolist()}")

    if dev.type == "cuda":
        t32 = min(timed(lambda: ours(precision="tf32"), sync)[0] for _ in range(args.repeats))
        rows.append(("ours, TF32 GEMMs (deviation)", t32, flop / t32))
        n = 8192
        a, b = torch.randn(n, n, device=dev), torch.randn(n, n, device=dev)
        old = torch.backends.cuda.matmul.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.mm(a, b)
        peak = max(2 * n ** 3 / timed(lambda: torch.mm(a, b), sync)[0] for _ in range(5))
        torch.backends.cuda.matmul.allow_tf32 = old

    print(f"\n{'what':38s} {'time (s)':>9s} {'GFLOP/s':>9s} {'x GEMM':>7s}")
    for name, t, rate in rows:
        print(f"{name:38s} {t:9.3f} {rate / 1e9:9.1f} {t / t_g:7.2f}")
    if same is not None:
        print(f"\npredictions identical to sklearn: {same}")
    print(f"ours / GEMM floor = {t_o / t_g:.2f}x wall (CPU goal <= 1.3x)")
    if dev.type == "cpu":
        co, cg = min(CPU_TIMES["ours"]), min(CPU_TIMES["gemm"])
        print(f"process CPU seconds: ours {co:.3f}, GEMM {cg:.3f} -> {co / cg:.2f}x "
              f"(insensitive to other jobs' load; wall times on a shared machine are not)")
    if dev.type == "cuda":
        print(f"device TF32 GEMM rate (8192^3 torch.mm): {peak / 1e12:.1f} TFLOP/s; ours fp32: "
              f"{flop / t_o / peak:.1%} of it, ours TF32: {flop / t32 / peak:.1%}")


if __name__ == "__main__":
    main()
