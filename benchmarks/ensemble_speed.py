"""Seeds per second: one vectorised ensemble against the same seeds trained one at a time.

Same recipe, same data, same machine, one process: for each arch it trains E seeds as one block
(`train_block` with E members) and then the same E seeds one after the other (E calls with one
member each), and reports seeds/second of both and their ratio. Both paths include evaluation
and per-presentation records, exactly as the workflow runs them.

    python benchmarks/ensemble_speed.py [--seeds 8] [--examples 4000] [--epochs 2] [--device auto]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

import pointwise.config as pwconfig  # noqa: E402
from pointwise.data.store import write_dataset  # noqa: E402
from pointwise.data.synthetic import make_synthetic  # noqa: E402
from pointwise.designs import build_design  # noqa: E402
from pointwise.train.engine import train_block  # noqa: E402

ARCHS = {
    "mlp-2x64": {"family": "mlp", "depth": 2, "width": 64},
    "mlp-7x256": {"family": "mlp", "depth": 7, "width": 256, "init": "kaiming"},
    "cnn-8-16-32": {"family": "small_cnn", "widths": [8, 16, 32], "norm": "batch"},
}


def bench(args) -> list[dict]:
    tmp = Path(tempfile.mkdtemp(prefix="pointwise-bench-"))
    ds = make_synthetic(n_train=args.examples, n_test=args.examples // 4, num_classes=10,
                        channels=1, size=28, seed=0)
    data = tmp / "data.h5"
    write_dataset(ds, data)
    cfg = pwconfig.validate({
        "scale": "bench", "results": str(tmp), "device": args.device, "threads": args.threads,
        "datasets": {"synth": {"source": "synthetic", "n_train": 1, "n_test": 1, "num_classes": 10, "size": 28}},
        "archs": ARCHS,
        "recipes": {"r": {"epochs": args.epochs, "batch_size": 128,
                          "optimizer": {"lr": 0.05, "weight_decay": 5e-4}, "schedule": {"kind": "cosine"},
                          "augment": {"crop_padding": 2, "flip": True}, "eval": {"per_epoch": 2}}},
        "experiments": {"b": {"dataset": "synth", "design": {"kind": "full", "seeds": args.seeds},
                              "archs": {a: "r" for a in ARCHS}, "ensemble": args.seeds}},
    })
    design = tmp / "design.h5"
    build_design("b", cfg["experiments"]["b"], data, design)
    rows = []
    for arch in ARCHS:
        recipe = pwconfig.recipe(cfg, "b", arch)

        def train(members, tag):
            outs = {k: [str(tmp / arch / tag / f"{m}.{k}") for m in members] for k in ("ckpt", "logits", "stats")}
            train_block(str(data), str(design), {"train": str(data), "test": str(data)}, outs, recipe,
                        members, str(tmp / arch / tag / "state"))

        train([0], "warmup")
        t0 = time.perf_counter()
        train(list(range(args.seeds)), "ensemble")
        t_ens = time.perf_counter() - t0
        t0 = time.perf_counter()
        for s in range(args.seeds):
            train([s], f"solo{s}")
        t_seq = time.perf_counter() - t0
        from pointwise.train.ensemble import choose_mode
        from pointwise.models import build_model
        mode = choose_mode(build_model(ARCHS[arch], (1, 28, 28), 10), args.seeds,
                           torch.device("cuda" if device_is_cuda(args.device) else "cpu"))
        rows.append({"arch": arch, "mode": mode, "seeds": args.seeds, "ensemble_s": t_ens, "sequential_s": t_seq,
                     "ensemble_seeds_per_s": args.seeds / t_ens, "sequential_seeds_per_s": args.seeds / t_seq,
                     "speedup": t_seq / t_ens})
    return rows


def device_is_cuda(name: str) -> bool:
    return name == "cuda" or (name == "auto" and torch.cuda.is_available())


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=8)
    p.add_argument("--examples", type=int, default=4000)
    p.add_argument("--epochs", type=float, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    args = p.parse_args()
    device = "cuda" if args.device == "auto" and torch.cuda.is_available() else args.device
    print(f"device: {device if device != 'auto' else 'cpu'}; torch {torch.__version__}; "
          f"{args.seeds} seeds x {args.examples} examples x {args.epochs} epochs, batch 128, 28x28x1")
    print(f"{'arch':<14} {'mode':>5} {'ensemble s':>10} {'sequential s':>12} {'seeds/s ens':>11} {'seeds/s seq':>11} {'speedup':>8}")
    for r in bench(args):
        print(f"{r['arch']:<14} {r['mode']:>5} {r['ensemble_s']:>10.2f} {r['sequential_s']:>12.2f} "
              f"{r['ensemble_seeds_per_s']:>11.3f} {r['sequential_seeds_per_s']:>11.3f} {r['speedup']:>7.2f}x")


if __name__ == "__main__":
    main()
