"""The training engine: several seeds of one recipe trained together, resumable, fully recorded.

One call trains one *block*: the seeds ``members`` of an experiment for one arch. Per member it
writes ``model.pt`` (final checkpoint), ``logits.h5`` (fp16 logits of every eval set at every eval
point) and ``train_stats.h5`` (loss, correctness and margin of every training example at every
presentation). While running it keeps a resumable state in ``state_dir``; a killed or preempted
job restarts from there and, on CPU, ends bit-identical to an uninterrupted run.
"""
from __future__ import annotations

import logging
import math
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import torch
import torch.nn.functional as F

from pointwise.data.store import read_dataset
from pointwise.designs import read_design, stable_seed
from pointwise.io import atomic_path, set_h5_attrs
from pointwise.logs import log_to
from pointwise.models import build_model, head_parameter_names
from pointwise.provenance import config_hash, provenance
from pointwise.train import augment
from pointwise.train.ensemble import Ensemble
from pointwise.train.losses import label_margin, per_example_loss
from pointwise.train.schedules import lr_at
from pointwise.train.streams import Stream

log = logging.getLogger("pointwise.train")

STATE_FILE = "state.pt"


class TrainingInterrupted(RuntimeError):
    """Raised after saving state when the job receives SIGTERM/SIGUSR1 (time limit, preemption)."""


@dataclass
class Preprocess:
    """uint8 images -> normalised float input: zero-pad to ``pad_to``, scale to [0,1], standardise."""
    mean: np.ndarray
    std: np.ndarray
    pad: tuple[int, int, int, int]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float().div_(255.0)
        if any(self.pad):
            x = F.pad(x, self.pad)
        shape = (1,) * (x.dim() - 3) + (-1, 1, 1)
        mean = torch.as_tensor(self.mean, dtype=x.dtype, device=x.device).reshape(shape)
        std = torch.as_tensor(self.std, dtype=x.dtype, device=x.device).reshape(shape)
        return (x - mean) / std

    def as_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist(), "pad": list(self.pad)}


def make_preprocess(images_uint8: np.ndarray, recipe: dict) -> Preprocess:
    """Per-channel statistics of ``images_uint8`` (the pool), and the padding to ``pad_to``."""
    c, h, w = images_uint8.shape[1:]
    if recipe.get("normalize", "dataset") == "dataset":
        x = images_uint8.astype(np.float64) / 255.0
        mean = x.mean(axis=(0, 2, 3))
        std = x.std(axis=(0, 2, 3)) + 1e-8
    else:
        mean, std = np.zeros(c), np.ones(c)
    pad_to = recipe.get("pad_to")
    pad = (0, 0, 0, 0)
    if pad_to:
        if pad_to < max(h, w):
            raise ValueError(f"pad_to={pad_to} is smaller than the images ({h}x{w})")
        dh, dw = pad_to - h, pad_to - w
        pad = (dw // 2, dw - dw // 2, dh // 2, dh - dh // 2)
    return Preprocess(mean.astype(np.float32), std.astype(np.float32), pad)


def total_steps(recipe: dict, n_train: int, batch: int) -> int:
    if "steps" in recipe:
        return int(recipe["steps"])
    if "epochs" in recipe:
        return max(1, math.ceil(recipe["epochs"] * n_train / batch))
    return int(sum(recipe["schedule"]["phases"]))


def snapshot_steps(recipe: dict, total: int, steps_per_epoch: float) -> list[int]:
    """Steps at which ``recipe.snapshots`` asks for an extra checkpoint (epochs -> nearest step)."""
    snap = recipe.get("snapshots") or {}
    pts = {int(s) for s in snap.get("steps", [])}
    pts |= {int(round(e * steps_per_epoch)) for e in snap.get("epochs", [])}
    bad = sorted(p for p in pts if p > total)
    if bad:
        raise ValueError(f"snapshots at steps {bad} lie beyond the {total} training steps")
    return sorted(pts)


def eval_steps(recipe: dict, total: int, steps_per_epoch: float) -> np.ndarray:
    """Sorted unique steps at which every eval set is evaluated (always including the last)."""
    ev = recipe.get("eval", {})
    if "every_steps" in ev:
        pts = np.arange(ev["every_steps"], total + 1, ev["every_steps"])
    elif "count" in ev:
        pts = np.round(np.linspace(0, total, ev["count"] + 1)[1:])
    else:
        per = ev.get("per_epoch", 1)
        interval = steps_per_epoch / per
        pts = np.round(np.arange(1, math.floor(total / interval + 1e-9) + 1) * interval)
    pts = set(int(p) for p in pts if 0 < p <= total) | {total}
    if ev.get("at_start", True):
        pts.add(0)
    return np.array(sorted(pts), dtype=np.int64)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but no GPU is visible (set device: auto or cpu)")
    return torch.device(name)


def _build_members(recipe, in_shape, num_classes, run_seeds, init_checkpoints):
    models = []
    for m, seed in enumerate(run_seeds):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(stable_seed("init", seed))
            model = build_model(recipe["arch"], in_shape, num_classes)
            if init_checkpoints:
                src = torch.load(init_checkpoints[m], map_location="cpu", weights_only=False)
                keep_head = recipe["init_from"].get("head", "reinit") == "keep"
                head = set() if keep_head else set(head_parameter_names(model))
                body = {k: v for k, v in src["state_dict"].items() if k not in head}
                missing, unexpected = model.load_state_dict(body, strict=False)
                if unexpected or set(missing) - head:
                    raise ValueError(f"checkpoint {init_checkpoints[m]} does not fit arch "
                                     f"{recipe['arch_name']}: missing {sorted(set(missing) - head)}, "
                                     f"unexpected {sorted(unexpected)}")
        models.append(model)
    return models


def train_block(data: str, design: str, eval_data: dict[str, str], outputs: dict[str, list],
                recipe: dict, members: list[int], state_dir: str, log_path: str | None = None,
                init_checkpoints: list[str] | None = None, config: dict | None = None) -> None:
    """Train the seeds ``members`` of ``recipe['experiment']`` together (see module docstring).

    data/design: the training dataset and design files; eval_data: eval set name -> dataset file
    (split from ``recipe['eval_sets']``); outputs: {'ckpt': [...], 'logits': [...], 'stats': [...]}
    and optionally 'snapshots', one path per member; init_checkpoints: per-member pretrained
    checkpoints (``init_from``).
    """
    log_to(log_path)
    t_start = time.time()
    device = pick_device(recipe.get("device", "auto"))
    if device.type == "cpu":
        torch.set_num_threads(int(recipe.get("threads", 2)))
    E = len(members)
    state_path = Path(state_dir) / STATE_FILE

    ds = read_dataset(data)
    des = read_design(design)
    pool_rows = des["pool_rows"]
    member_rows = [np.sort(pool_rows[des["train_mask"][s]]) for s in members]
    run_seeds = [int(des["run_seeds"][s]) for s in members]
    pre = make_preprocess(ds.images[pool_rows], recipe)
    images = torch.from_numpy(ds.images).to(device)
    labels = torch.from_numpy(ds.labels).to(device)
    in_shape = tuple(pre(images[:1]).shape[1:])
    C = ds.num_classes

    n_max, n_min = max(map(len, member_rows)), min(map(len, member_rows))
    batch = n_max if recipe.get("full_batch") else int(recipe["batch_size"])
    spe = n_max / batch
    T = total_steps(recipe, n_max, batch)
    evals = eval_steps(recipe, T, spe)
    n_epochs = math.ceil(T * batch / n_min)
    padding, flip = recipe["augment"]["crop_padding"], recipe["augment"]["flip"]
    records_mode = recipe.get("records", "eval_forward")
    head_only = bool(recipe.get("init_from")) and recipe["init_from"].get("train") == "head"
    if T == 0:
        log.info("steps: 0 - the network is only evaluated at initialisation")

    eval_sets = {}
    for name, (ds_name, split) in recipe["eval_sets"].items():
        eds = ds if os.path.abspath(eval_data[name]) == os.path.abspath(data) else read_dataset(eval_data[name])
        rows = eds.split_index(split)
        imgs = images[torch.from_numpy(rows).to(device)] if eds is ds else torch.from_numpy(eds.images[rows]).to(device)
        if tuple(pre(imgs[:1]).shape[1:]) != in_shape:
            raise ValueError(f"eval set '{name}' ({ds_name}:{split}) has image shape {tuple(eds.shape)}, "
                             f"the training data {tuple(ds.shape)}")
        eval_sets[name] = {"images": imgs, "rows": rows, "ids": eds.ids[rows], "labels": eds.labels[rows],
                           "dataset": ds_name, "split": split,
                           "logits": np.zeros((E, len(evals), len(rows), C), dtype=np.float16)}

    models = _build_members(recipe, in_shape, C, run_seeds, init_checkpoints)
    head = set(head_parameter_names(models[0]))
    ens = Ensemble(models, device, recipe.get("ensemble_mode", "auto"))
    trainable = [v for k, v in ens.params.items() if not head_only or k in head]
    for k, v in ens.params.items():
        v.requires_grad_(not head_only or k in head)
    opt_cfg = recipe["optimizer"]
    opt = torch.optim.SGD(trainable, lr=opt_cfg["lr"], momentum=opt_cfg["momentum"],
                          weight_decay=opt_cfg["weight_decay"],
                          nesterov=opt_cfg["nesterov"] and opt_cfg["momentum"] > 0)

    streams = [Stream(len(r), stable_seed("order", s)) for r, s in zip(member_rows, run_seeds)]
    aug_rngs = [np.random.default_rng(stable_seed("augment", s)) for s in run_seeds]
    rec_epochs = n_epochs if records_mode != "none" else 0
    rec = {k: [np.full((rec_epochs, len(r)), fill, dtype=dt) for r in member_rows]
           for k, fill, dt in (("loss", np.nan, np.float32), ("margin", np.nan, np.float32),
                               ("correct", False, bool), ("step", -1, np.int32))}
    snaps_at = snapshot_steps(recipe, T, spe)
    snapshots: list[dict] = [{} for _ in range(E)]
    step, k_eval = 0, 0
    rhash = config_hash({k: v for k, v in recipe.items()
                         if k not in ("threads", "device", "checkpoint_minutes", "ensemble_mode")})

    if state_path.exists():
        st = torch.load(state_path, map_location="cpu", weights_only=False)
        if st["recipe_hash"] == rhash and st["members"] == list(members):
            ens.load_state(st["ensemble"], device)
            opt.load_state_dict(st["optimizer"])
            streams = [Stream.from_state(s) for s in st["streams"]]
            for g, s in zip(aug_rngs, st["aug_rngs"]):
                g.bit_generator.state = s
            rec = st["records"]
            snapshots = st["snapshots"]
            for name, arr in st["logits"].items():
                eval_sets[name]["logits"] = arr
            step, k_eval = st["step"], st["k_eval"]
            log.info("resumed from %s at step %d/%d", state_path, step, T)
        else:
            log.info("ignoring stale state %s (different recipe or members)", state_path)

    def save_state():
        state_path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(state_path) as tmp:
            torch.save({"recipe_hash": rhash, "members": list(members), "step": step, "k_eval": k_eval,
                        "ensemble": ens.state(), "optimizer": opt.state_dict(),
                        "streams": [s.state() for s in streams],
                        "aug_rngs": [g.bit_generator.state for g in aug_rngs],
                        "records": rec, "snapshots": snapshots,
                        "logits": {n: e["logits"] for n, e in eval_sets.items()}}, tmp)
        log.info("saved resumable state at step %d", step)

    stop = {"signal": None}

    def on_signal(signum, frame):
        stop["signal"] = signum

    old_handlers = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGUSR1)}
    log.info("training %s/%s seeds %s as one ensemble of %d (%s) on %s: %d examples each, batch %d, "
             "%d steps, %d eval points", recipe["experiment"], recipe["arch_name"], list(members), E,
             ens.mode, device, n_max, batch, T, len(evals))
    last_save, last_log, t_loop = time.time(), 0.0, time.time()
    ckpt_every = 60.0 * float(recipe.get("checkpoint_minutes", 10))
    log_every = max(1, T // 20)
    try:
        while True:
            if k_eval < len(evals) and step == evals[k_eval]:
                _evaluate(ens, eval_sets, pre, k_eval, recipe["eval"]["batch_size"], train_mode=False)
                accs = {n: float((e["logits"][:, k_eval].argmax(-1) == e["labels"]).mean())
                        for n, e in eval_sets.items()}
                log.info("eval %d/%d at step %d: %s", k_eval + 1, len(evals), step,
                         " ".join(f"{n} acc {a:.4f}" for n, a in accs.items()))
                k_eval += 1
            if step in snaps_at and step not in snapshots[0]:
                for m in range(E):
                    snapshots[m][step] = ens.member_state_dict(m)
            if step >= T:
                break
            if stop["signal"] is not None:
                save_state()
                raise TrainingInterrupted(f"received signal {stop['signal']} at step {step}; state saved, "
                                          "rerun the job to resume")
            loss = _train_step(ens, opt, streams, aug_rngs, member_rows, images, labels, pre, rec,
                               batch, step, padding, flip, records_mode, head_only, recipe, T, spe)
            step += 1
            if step % log_every == 0 or step == T:
                rate = (step - 0) / max(time.time() - t_loop, 1e-9)
                log.info("step %d/%d lr %.3g loss %.4f (%.1f steps/s, %.0fs elapsed)", step, T,
                         opt.param_groups[0]["lr"], loss, rate, time.time() - t_start)
            if time.time() - last_save > ckpt_every and step < T:
                save_state()
                last_save = time.time()
    finally:
        for s, h in old_handlers.items():
            signal.signal(s, h)

    inputs = [data, design] + sorted(set(eval_data.values()) - {data}) + list(init_checkpoints or [])
    prov_base = provenance(config or recipe, inputs=inputs, experiment=recipe["experiment"],
                           arch=recipe["arch_name"], recipe=recipe["recipe_name"])
    for m in range(E):
        prov = {**prov_base, "seed": run_seeds[m], "seed_index": int(members[m])}
        _write_checkpoint(outputs["ckpt"][m], ens.member_state_dict(m), recipe, in_shape, C, pre, prov, T)
        _write_logits(outputs["logits"][m], eval_sets, m, evals, spe, ds.ids[member_rows[m]], prov)
        _write_stats(outputs["stats"][m], rec, m, ds, member_rows[m], records_mode, prov)
        if "snapshots" not in outputs:
            continue
        with atomic_path(outputs["snapshots"][m]) as tmp:
            torch.save({"steps": sorted(snapshots[m]), "epochs": [s / spe for s in sorted(snapshots[m])],
                        "state_dicts": [snapshots[m][s] for s in sorted(snapshots[m])],
                        "provenance": prov}, tmp)
    state_path.unlink(missing_ok=True)
    log.info("done: %d seeds x %d steps in %.1fs", E, T, time.time() - t_start)


def _batch(streams, aug_rngs, member_rows, batch, padding, flip, device):
    pos, ep, aug = [], [], []
    for m, s in enumerate(streams):
        p, e = s.next(batch)
        pos.append(p)
        ep.append(e)
        aug.append(augment.draw_params(aug_rngs[m], batch, padding, flip))
    rows = np.stack([member_rows[m][p] for m, p in enumerate(pos)])
    return pos, ep, torch.from_numpy(rows).to(device), torch.from_numpy(np.stack(aug))


def _train_step(ens, opt, streams, aug_rngs, member_rows, images, labels, pre, rec, batch, step,
                padding, flip, records_mode, head_only, recipe, T, spe) -> float:
    pos, ep, rows, aug = _batch(streams, aug_rngs, member_rows, batch, padding, flip, images.device)
    x_clean = pre(images[rows])                      # [E, B, C, H, W]
    y = labels[rows]
    if records_mode == "eval_forward":
        _record(rec, pos, ep, step, ens.forward_eval(x_clean, shared=False), y, recipe["loss"])
    x = augment.apply(x_clean, aug, padding) if (padding or flip) else x_clean
    lr = lr_at(step, T, spe, recipe["optimizer"]["lr"], recipe["schedule"])
    for g in opt.param_groups:
        g["lr"] = lr
    logits = ens.forward_train(x, train_mode=not head_only)
    per_ex = per_example_loss(logits, y, recipe["loss"])
    loss = per_ex.mean(1).sum()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    if records_mode == "train_forward":
        _record(rec, pos, ep, step, logits.detach(), y, recipe["loss"])
    return float(loss.detach()) / len(streams)


def _record(rec, pos, ep, step, logits, y, loss_kind):
    loss = per_example_loss(logits, y, loss_kind).float().cpu().numpy()
    correct = (logits.argmax(-1) == y).cpu().numpy()
    margin = label_margin(logits.float(), y).cpu().numpy()
    for m in range(len(pos)):
        rec["loss"][m][ep[m], pos[m]] = loss[m]
        rec["correct"][m][ep[m], pos[m]] = correct[m]
        rec["margin"][m][ep[m], pos[m]] = margin[m]
        rec["step"][m][ep[m], pos[m]] = step


def _evaluate(ens, eval_sets, pre, k, batch_size, train_mode):
    for e in eval_sets.values():
        imgs, out = e["images"], e["logits"]
        for i in range(0, len(imgs), batch_size):
            z = ens.forward_eval(pre(imgs[i:i + batch_size]), shared=True)
            out[:, k, i:i + batch_size] = z.to(torch.float16).cpu().numpy()


def _write_checkpoint(path, state_dict, recipe, in_shape, num_classes, pre, prov, steps):
    with atomic_path(path) as tmp:
        torch.save({"state_dict": state_dict, "arch": recipe["arch"], "arch_name": recipe["arch_name"],
                    "in_shape": list(in_shape), "num_classes": num_classes,
                    "preprocess": pre.as_dict(), "recipe": recipe, "steps": steps,
                    "provenance": prov}, tmp)


def _write_logits(path, eval_sets, m, evals, spe, train_ids, prov):
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            f.create_dataset("steps", data=evals)
            f.create_dataset("epochs", data=evals / spe)
            f.create_dataset("train_ids", data=np.sort(train_ids))
            for name, e in eval_sets.items():
                g = f.create_group(name)
                arr = e["logits"][m]
                g.create_dataset("logits", data=arr, chunks=(1,) + arr.shape[1:])
                g.create_dataset("ids", data=e["ids"])
                g.create_dataset("rows", data=e["rows"])
                g.create_dataset("labels", data=e["labels"])
                g.attrs["dataset"], g.attrs["split"] = e["dataset"], e["split"]
            set_h5_attrs(f, prov)


def _write_stats(path, rec, m, ds, rows, records_mode, prov):
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            f.create_dataset("ids", data=ds.ids[rows])
            f.create_dataset("labels", data=ds.labels[rows])
            for key in ("loss", "margin", "correct", "step"):
                f.create_dataset(key, data=rec[key][m], compression="gzip", compression_opts=1)
            set_h5_attrs(f, {**prov, "records": records_mode,
                             "layout": "[epoch, example]; step = global step of the presentation, -1 if none"})
