"""The training engine: several seeds of one recipe trained together, resumable, fully recorded.

One call trains one *block*: the seeds ``members`` of an experiment for one arch. Per member it
writes ``model.pt`` (final checkpoint), ``logits.h5`` (fp16 logits of every eval set at every eval
point) and ``train_stats.h5`` (loss, correctness and margin of every training example at every
presentation). While running it keeps a resumable state in ``state_dir``; a killed or preempted
job restarts from there and, on CPU, ends bit-identical to an uninterrupted run.

Fine-tuning variants (paper 001 §5.5; :mod:`pointwise.train.variants`, :mod:`pointwise.train.epochs`):
``replay`` (source examples in every batch, the source head kept next to the new one and its test
split evaluated as eval set ``source``), ``class_map`` (the pretrained head, target logits = max
over mapped source logits), ``l2_init`` (λ/2·‖θ − θ_init‖² to the pretrained weights) and a
design's ``epoch_mask`` (per-epoch training subsets: the phase-out schedule).
"""
from __future__ import annotations

import hashlib
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
from pointwise.models import build_model, head_parameter_names, import_weights
from pointwise.models.import_weights import convert_state_dict
from pointwise.provenance import config_hash, provenance
from pointwise.train import augment
from pointwise.train.ensemble import Ensemble
from pointwise.train.epochs import EpochClock, member_mask, read_epoch_mask
from pointwise.train.losses import label_margin, per_example_loss
from pointwise.train.schedules import lr_at
from pointwise.train.streams import Stream
from pointwise.train.variants import (DualHead, OutputMap, add_l2_to_init_grad_, class_map_index,
                                      draw_replay, head_layout, replay_count, replay_loss)

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


def snapshot_steps(recipe: dict, total: int, steps_per_epoch: float, clock: EpochClock | None = None) -> list[int]:
    """Steps at which ``recipe.snapshots`` asks for an extra checkpoint (epochs -> nearest step;
    through ``clock`` when epochs differ in length)."""
    snap = recipe.get("snapshots") or {}
    pts = {int(s) for s in snap.get("steps", [])}
    if clock is None:
        pts |= {int(round(e * steps_per_epoch)) for e in snap.get("epochs", [])}
    else:
        pts |= {int(round(float(clock.step_at(e)))) for e in snap.get("epochs", [])}
    bad = sorted(p for p in pts if p > total)
    if bad:
        raise ValueError(f"snapshots at steps {bad} lie beyond the {total} training steps")
    return sorted(pts)


def eval_steps(recipe: dict, total: int, steps_per_epoch: float, clock: EpochClock | None = None) -> np.ndarray:
    """Sorted unique steps at which every eval set is evaluated (always including the last);
    ``per_epoch`` points follow ``clock`` when epochs differ in length."""
    ev = recipe.get("eval", {})
    if "every_steps" in ev:
        pts = np.arange(ev["every_steps"], total + 1, ev["every_steps"])
    elif "count" in ev:
        pts = np.round(np.linspace(0, total, ev["count"] + 1)[1:])
    elif clock is not None:
        per = ev.get("per_epoch", 1)
        last = float(clock.epoch_at(total))
        pts = np.round(clock.step_at(np.arange(1, math.floor(last * per + 1e-9) + 1) / per))
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
    """The members' networks and the names of the parameters loaded from the pretrained checkpoint.

    A class-mapped recipe keeps the source head (its classes are the output); a replay recipe
    with a fresh target head gets a :class:`DualHead` whose source half is the checkpoint's head.
    ``init_checkpoints`` are workflow checkpoints (model.pt) or, with ``init_from.weights``, the
    weights file (:func:`_load_source`)."""
    layout = head_layout(recipe)
    models, loaded, sources = [], set(), {}
    for m, seed in enumerate(run_seeds):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(stable_seed("init", seed))
            src = None
            if init_checkpoints:
                path = str(init_checkpoints[m])
                if path not in sources:
                    sources[path] = _load_source(recipe, path)
                src = sources[path]
            n_out = int(src["num_classes"]) if layout == "mapped" else num_classes
            model = build_model(recipe["arch"], in_shape, n_out)
            if src is not None:
                keep_head = recipe["init_from"].get("head", "reinit") == "keep"
                head = set() if keep_head else set(head_parameter_names(model))
                state = src["state_dict"] if "format" not in src else convert_state_dict(
                    src["state_dict"], model, src["format"], f"weights '{init_checkpoints[m]}'",
                    skip_head=not keep_head)
                body = {k: v for k, v in state.items() if k not in head}
                missing, unexpected = model.load_state_dict(body, strict=False)
                missing = {k for k in missing if not k.endswith("num_batches_tracked")} - head
                if unexpected or missing:
                    raise ValueError(f"checkpoint {init_checkpoints[m]} does not fit arch "
                                     f"{recipe['arch_name']}: missing {sorted(missing)}, "
                                     f"unexpected {sorted(unexpected)}")
                loaded = {n for n, _ in model.named_parameters() if n in body}
                if layout == "separate":
                    source = torch.nn.Linear(model.head.in_features, int(src["num_classes"]))
                    source.load_state_dict({"weight": src["state_dict"]["head.weight"],
                                            "bias": src["state_dict"]["head.bias"]})
                    model.head = DualHead(model.head, source)
                    loaded |= {"head.source.weight", "head.source.bias"}
        models.append(model)
    return models, loaded


def _load_source(recipe: dict, path: str) -> dict:
    """The pretrained source of ``init_from``: a workflow checkpoint (model.pt: ``state_dict`` in
    our names, ``num_classes``, ``preprocess``) or, with ``init_from.weights``, a published
    weights file (``state_dict`` in its format's names, converted per member by
    :func:`~pointwise.models.import_weights.convert_state_dict`; ``format``; ``num_classes`` of
    its classifier; no preprocessing)."""
    init = recipe.get("init_from") or {}
    if init.get("weights"):
        fmt = init.get("format", "torchvision")
        raw = import_weights.read_weights(path, fmt)
        return {"state_dict": raw, "format": fmt, "num_classes": import_weights.num_classes(raw, fmt)}
    return torch.load(path, map_location="cpu", weights_only=False)


def _source_preprocess(recipe: dict, checkpoint: str) -> tuple[Preprocess | None, int]:
    """The pretraining run's preprocessing (replayed source images are normalised as it saw
    them; None for a weights file) and its number of classes."""
    src = _load_source(recipe, checkpoint)
    p = src.get("preprocess")
    pre = None if p is None else Preprocess(np.asarray(p["mean"], np.float32), np.asarray(p["std"], np.float32),
                                            tuple(p["pad"]))
    return pre, int(src["num_classes"])


SOURCE_SET = "source"


@dataclass
class _Replay:
    """The replayed source examples of a block (paper 001 C.11/C.12)."""
    images: torch.Tensor
    labels: torch.Tensor
    rows: np.ndarray
    pre: Preprocess
    count: int
    streams: list


@dataclass
class _Step:
    """What one optimiser step reads; the loop state itself lives in :func:`train_block`."""
    ens: Ensemble
    opt: torch.optim.Optimizer
    streams: list
    aug_rngs: list
    member_rows: list
    images: torch.Tensor
    labels: torch.Tensor
    pre: Preprocess
    rec: dict
    batch: int
    padding: int
    flip: bool
    records_mode: str
    head_only: bool
    recipe: dict
    T: int
    spe: float
    omap: OutputMap
    replay: _Replay | None = None
    l2_init: dict | None = None
    l2_lambda: float = 0.0


def train_block(data: str, design: str, eval_data: dict[str, str], outputs: dict[str, list],
                recipe: dict, members: list[int], state_dir: str, log_path: str | None = None,
                init_checkpoints: list[str] | None = None, config: dict | None = None,
                replay_data: str | None = None) -> None:
    """Train the seeds ``members`` of ``recipe['experiment']`` together (see module docstring).

    data/design: the training dataset and design files; eval_data: eval set name -> dataset file
    (split from ``recipe['eval_sets']``); outputs: {'ckpt': [...], 'logits': [...], 'stats': [...]}
    and optionally 'snapshots', one path per member; init_checkpoints: per-member pretrained
    checkpoints (``init_from``); replay_data: the dataset file of ``recipe['replay']``.
    """
    log_to(log_path)
    t_start = time.time()
    init = recipe.get("init_from") or {}
    if init.get("weights"):                 # published weights: every member starts from the file
        if not Path(init["weights"]).is_file():
            import_weights.read_weights(init["weights"], init.get("format", "torchvision"))  # the clear error
        init_checkpoints = [init["weights"]] * len(members)
    device = pick_device(recipe.get("device", "auto"))
    if device.type == "cpu":
        torch.set_num_threads(int(recipe.get("threads", 2)))
    E = len(members)
    state_path = Path(state_dir) / STATE_FILE

    ds = read_dataset(data)
    des = read_design(design)
    pool_rows = des["pool_rows"]
    member_rows = [np.sort(pool_rows[des["train_mask"][s]]) for s in members]
    epoch_mask = read_epoch_mask(design)
    schedules = None if epoch_mask is None else \
        [member_mask(epoch_mask, des["train_mask"][s], pool_rows) for s in members]
    run_seeds = [int(des["run_seeds"][s]) for s in members]
    pre = make_preprocess(ds.images[pool_rows], recipe)
    images = torch.from_numpy(ds.images).to(device)
    labels = torch.from_numpy(ds.labels).to(device)
    in_shape = tuple(pre(images[:1]).shape[1:])
    C = ds.num_classes

    n_max, n_min = max(map(len, member_rows)), min(map(len, member_rows))
    batch = n_max if recipe.get("full_batch") else int(recipe["batch_size"])
    clock = None
    if schedules is None:
        spe = n_max / batch
        T = total_steps(recipe, n_max, batch)
        n_epochs = math.ceil(T * batch / n_min)
    else:
        sizes = np.max([m.sum(1) for m in schedules], axis=0)
        clock = EpochClock(sizes, batch)
        if "epochs" in recipe and "steps" not in recipe and recipe["epochs"] != len(sizes):
            raise ValueError(f"recipe {recipe['recipe_name']} trains {recipe['epochs']} epochs but the design's "
                             f"epoch schedule has {len(sizes)}")
        T = clock.total_steps(recipe["epochs"]) if "epochs" in recipe and "steps" not in recipe \
            else total_steps(recipe, n_max, batch)
        spe = T / max(float(clock.epoch_at(T)), 1e-9)        # mean epoch length (epoch-based lr schedules)
        n_epochs = max(1, max(math.ceil(float(EpochClock(m.sum(1), batch).epoch_at(T)) - 1e-9)
                              for m in schedules))
        log.info("per-epoch training subsets from the design: %d epochs of %s examples",
                 len(sizes), sizes.tolist())
    evals = eval_steps(recipe, T, spe, clock)
    padding, flip = recipe["augment"]["crop_padding"], recipe["augment"]["flip"]
    records_mode = recipe.get("records", "eval_forward")
    head_only = bool(recipe.get("init_from")) and recipe["init_from"].get("train") == "head"
    if T == 0:
        log.info("steps: 0 - the network is only evaluated at initialisation")

    layout = head_layout(recipe)
    rep = recipe.get("replay")
    if layout != "plain" and not init_checkpoints:
        raise ValueError(f"recipe {recipe.get('recipe_name')}: replay and class_map start from a pretrained "
                         "checkpoint (init_from)")
    keep_head = bool(init) and init.get("head", "reinit") == "keep"
    pre_src, n_source = _source_preprocess(recipe, init_checkpoints[0]) \
        if layout != "plain" or (keep_head and init_checkpoints) else (None, None)
    if rep and pre_src is None:
        raise ValueError(f"recipe {recipe.get('recipe_name')}: replay needs the pretraining run's preprocessing; "
                         "init_from.weights has none")
    # the network's outputs: C, or a kept head's source classes when it stays unmapped (zero-shot
    # evaluation of the pretrained head: logits over its classes, read through a class map later)
    n_out = n_source if layout == "plain" and keep_head and n_source is not None else C
    if n_out != C and T > 0:
        raise ValueError(f"recipe {recipe.get('recipe_name')}: the kept pretrained head has {n_out} classes, "
                         f"the data {C}; give a class_map (class-mapped fine-tuning) or steps: 0 (evaluate "
                         "the pretrained head, e.g. for zero-shot)")
    if layout == "mapped":
        if isinstance(recipe["class_map"], str):        # a JSON file (lazy import: pandas/scipy)
            from pointwise.robustness.zeroshot import load_class_map
            recipe = {**recipe, "class_map": load_class_map(recipe["class_map"])}
        if len(recipe["class_map"]) != C:
            raise ValueError(f"class_map has {len(recipe['class_map'])} target classes, the data {C}")
        omap = OutputMap("mapped", C, class_map_index(recipe["class_map"], n_source))
    else:
        omap = OutputMap(layout, C)

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
                           "logits": np.zeros((E, len(evals), len(rows), n_out), dtype=np.float16)}

    replay = None
    if rep:
        if replay_data is None:
            raise ValueError(f"recipe {recipe.get('recipe_name')} replays '{rep['dataset']}' but no replay "
                             "dataset file was given")
        src = read_dataset(replay_data)
        if src.num_classes != n_source:
            raise ValueError(f"replay dataset '{rep['dataset']}' has {src.num_classes} classes, the pretrained "
                             f"head {n_source}")
        src_images = torch.from_numpy(src.images).to(device)
        if tuple(pre_src(src_images[:1]).shape[1:]) != in_shape:
            raise ValueError(f"replay dataset '{rep['dataset']}' has image shape {tuple(src.shape)}, the "
                             f"training data {tuple(ds.shape)}")
        src_rows = src.split_index(rep.get("split", "train"))
        replay = _Replay(src_images, torch.from_numpy(src.labels).to(device), src_rows, pre_src,
                         replay_count(batch, rep["ratio"]),
                         [Stream(len(src_rows), stable_seed("replay", s)) for s in run_seeds])
        if rep.get("eval_split", "test"):
            if SOURCE_SET in eval_sets:
                raise ValueError(f"eval set name '{SOURCE_SET}' is reserved for the replay source")
            erows = src.split_index(rep.get("eval_split", "test"))
            eval_sets[SOURCE_SET] = {
                "images": src_images[torch.from_numpy(erows).to(device)], "rows": erows, "ids": src.ids[erows],
                "labels": src.labels[erows], "dataset": rep["dataset"], "split": rep.get("eval_split", "test"),
                "logits": np.zeros((E, len(evals), len(erows), n_source), dtype=np.float16),
                "pre": pre_src, "output": "source"}

    models, loaded = _build_members(recipe, in_shape, n_out, run_seeds, init_checkpoints)
    head = set(head_parameter_names(models[0]))
    ens = Ensemble(models, device, recipe.get("ensemble_mode", "auto"))
    shared_backbone = head_only and init_checkpoints and len(set(map(str, init_checkpoints))) == 1
    features = FrozenFeatures(models[0]) if shared_backbone else None
    # without source examples the kept source head only tracks the source task: it is not trained
    frozen = {"head.source.weight", "head.source.bias"} if layout == "separate" and not replay.count else set()
    train_names = [k for k in ens.params if (not head_only or k in head) and k not in frozen]
    trainable = [ens.params[k] for k in train_names]
    for k, v in ens.params.items():
        v.requires_grad_(k in train_names)
    l2 = recipe.get("l2_init") or {}
    l2_init = None
    if l2.get("lambda", 0) > 0:
        keys = [k for k in train_names if k in loaded]
        if not keys:
            raise ValueError(f"recipe {recipe.get('recipe_name')}: l2_init, but no trained parameter starts "
                             "from the pretrained checkpoint")
        l2_init = {k: ens.params[k].detach().clone() for k in keys}
    opt_cfg = recipe["optimizer"]
    opt = torch.optim.SGD(trainable, lr=opt_cfg["lr"], momentum=opt_cfg["momentum"],
                          weight_decay=opt_cfg["weight_decay"],
                          nesterov=opt_cfg["nesterov"] and opt_cfg["momentum"] > 0)

    streams = [Stream(len(r), stable_seed("order", s), None if schedules is None else schedules[i])
               for i, (r, s) in enumerate(zip(member_rows, run_seeds))]
    aug_rngs = [np.random.default_rng(stable_seed("augment", s)) for s in run_seeds]
    rec_epochs = n_epochs if records_mode != "none" else 0
    rec = {k: [np.full((rec_epochs, len(r)), fill, dtype=dt) for r in member_rows]
           for k, fill, dt in (("loss", np.nan, np.float32), ("margin", np.nan, np.float32),
                               ("correct", False, bool), ("step", -1, np.int32))}
    snaps_at = snapshot_steps(recipe, T, spe, clock)
    snapshots: list[dict] = [{} for _ in range(E)]
    step, k_eval = 0, 0
    hashed = {k: v for k, v in recipe.items() if k not in ("threads", "device", "checkpoint_minutes", "ensemble_mode")}
    if epoch_mask is not None:
        hashed["epoch_mask"] = hashlib.sha256(np.packbits(epoch_mask).tobytes()).hexdigest()
    rhash = config_hash(hashed)

    if state_path.exists():
        st = torch.load(state_path, map_location="cpu", weights_only=False)
        if st["recipe_hash"] == rhash and st["members"] == list(members):
            ens.load_state(st["ensemble"], device)
            opt.load_state_dict(st["optimizer"])
            streams = [Stream.from_state(s) for s in st["streams"]]
            if replay is not None:
                replay.streams = [Stream.from_state(s) for s in st["replay_streams"]]
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

    ctx = _Step(ens, opt, streams, aug_rngs, member_rows, images, labels, pre, rec, batch, padding, flip,
                records_mode, head_only, recipe, T, spe, omap, replay, l2_init, float(l2.get("lambda", 0.0)))

    def save_state():
        state_path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(state_path) as tmp:
            torch.save({"recipe_hash": rhash, "members": list(members), "step": step, "k_eval": k_eval,
                        "ensemble": ens.state(), "optimizer": opt.state_dict(),
                        "streams": [s.state() for s in streams],
                        "replay_streams": [s.state() for s in replay.streams] if replay else [],
                        "aug_rngs": [g.bit_generator.state for g in aug_rngs],
                        "records": rec, "snapshots": snapshots,
                        "logits": {n: e["logits"] for n, e in eval_sets.items()}}, tmp)
        log.info("saved resumable state at step %d", step)

    stop = {"signal": None}

    def on_signal(signum, frame):
        stop["signal"] = signum

    old_handlers = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGUSR1)}
    variants = {k: recipe[k] for k in ("replay", "class_map", "l2_init") if recipe.get(k)}
    if clock is not None:
        variants["epoch_schedule_sizes"] = clock.sizes.astype(int).tolist()
    log.info("training %s/%s seeds %s as one ensemble of %d (%s) on %s: %d examples each, batch %d, "
             "%d steps, %d eval points%s", recipe["experiment"], recipe["arch_name"], list(members), E,
             ens.mode, device, n_max, batch, T, len(evals), f"; variants {variants}" if variants else "")
    last_save, last_log, t_loop = time.time(), 0.0, time.time()
    ckpt_every = 60.0 * float(recipe.get("checkpoint_minutes", 10))
    log_every = max(1, T // 20)
    try:
        while True:
            if k_eval < len(evals) and step == evals[k_eval]:
                _evaluate(ens, eval_sets, pre, k_eval, recipe["eval"]["batch_size"], omap, features)
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
            loss = _train_step(ctx, step)
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
    inputs += [replay_data] if rep else []
    prov_base = provenance(config or recipe, inputs=inputs, experiment=recipe["experiment"],
                           arch=recipe["arch_name"], recipe=recipe["recipe_name"],
                           **({"variants": variants} if variants else {}))
    eval_epochs = evals / spe if clock is None else clock.epoch_at(evals)
    for m in range(E):
        prov = {**prov_base, "seed": run_seeds[m], "seed_index": int(members[m])}
        _write_checkpoint(outputs["ckpt"][m], ens.member_state_dict(m), recipe, in_shape, n_out, pre, prov, T,
                          layout, n_source)
        _write_logits(outputs["logits"][m], eval_sets, m, evals, eval_epochs, ds.ids[member_rows[m]], prov)
        _write_stats(outputs["stats"][m], rec, m, ds, member_rows[m], records_mode, prov)
        if "snapshots" not in outputs:
            continue
        with atomic_path(outputs["snapshots"][m]) as tmp:
            snap_steps = sorted(snapshots[m])
            snap_epochs = [s / spe for s in snap_steps] if clock is None else \
                [float(clock.epoch_at(s)) for s in snap_steps]
            torch.save({"steps": snap_steps, "epochs": snap_epochs,
                        "state_dicts": [snapshots[m][s] for s in snap_steps],
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


def _train_step(c: _Step, step: int) -> float:
    """One optimiser step of every member; returns the mean loss (data + L2-to-init) per member."""
    pos, ep, rows, aug = _batch(c.streams, c.aug_rngs, c.member_rows, c.batch, c.padding, c.flip, c.images.device)
    x_clean = c.pre(c.images[rows])                  # [E, B, C, H, W]
    y = c.labels[rows]
    loss_kind = c.recipe["loss"]
    if c.records_mode == "eval_forward":
        _record(c.rec, pos, ep, step, c.omap.target(c.ens.forward_eval(x_clean, shared=False)), y, loss_kind)
    x = augment.apply(x_clean, aug, c.padding) if (c.padding or c.flip) else x_clean
    y_src = None
    if c.replay is not None and c.replay.count:
        r = c.replay
        src_rows = torch.from_numpy(draw_replay(r.streams, r.rows, r.count)).to(x.device)
        xs = r.pre(r.images[src_rows])
        if c.padding or c.flip:
            params = np.stack([augment.draw_params(g, r.count, c.padding, c.flip) for g in c.aug_rngs])
            xs = augment.apply(xs, torch.from_numpy(params), c.padding)
        x = torch.cat([x, xs], dim=1)                 # one mixed batch [E, B + R, ...]
        y_src = r.labels[src_rows]
    lr = lr_at(step, c.T, c.spe, c.recipe["optimizer"]["lr"], c.recipe["schedule"])
    for g in c.opt.param_groups:
        g["lr"] = lr
    z = c.ens.forward_train(x, train_mode=not c.head_only)
    B = y.shape[1]
    z_target = c.omap.target(z[:, :B])
    per_source = None if y_src is None else per_example_loss(c.omap.source(z[:, B:]), y_src, loss_kind)
    loss = replay_loss(per_example_loss(z_target, y, loss_kind), per_source).sum()
    c.opt.zero_grad(set_to_none=True)
    loss.backward()
    penalty = 0.0
    if c.l2_init is not None:
        penalty = float(add_l2_to_init_grad_(c.ens.params, c.l2_init, c.l2_lambda).sum())
    c.opt.step()
    if c.records_mode == "train_forward":
        _record(c.rec, pos, ep, step, z_target.detach(), y, loss_kind)
    return (float(loss.detach()) + penalty) / len(c.streams)


def _record(rec, pos, ep, step, logits, y, loss_kind):
    loss = per_example_loss(logits, y, loss_kind).float().cpu().numpy()
    correct = (logits.argmax(-1) == y).cpu().numpy()
    margin = label_margin(logits.float(), y).cpu().numpy()
    for m in range(len(pos)):
        rec["loss"][m][ep[m], pos[m]] = loss[m]
        rec["correct"][m][ep[m], pos[m]] = correct[m]
        rec["margin"][m][ep[m], pos[m]] = margin[m]
        rec["step"][m][ep[m], pos[m]] = step


class FrozenFeatures:
    """The input of the classifier head for a frozen network, computed once per eval batch and
    kept: in head-only fine-tuning from one checkpoint every member shares the backbone and its
    BatchNorm statistics, so an eval point only applies the members' heads (the same numbers as a
    full forward pass per member, without repeating the backbone at every eval point)."""

    def __init__(self, model: torch.nn.Module):
        self.model = model.eval()
        self.cache: dict = {}

    @torch.no_grad()
    def __call__(self, key, x_fn) -> torch.Tensor:
        if key not in self.cache:
            got = {}
            hook = self.model.head.register_forward_pre_hook(lambda mod, args: got.__setitem__("f", args[0]))
            try:
                self.model(x_fn())
            finally:
                hook.remove()
            self.cache[key] = got["f"]
        return self.cache[key]


def _evaluate(ens, eval_sets, pre, k, batch_size, omap: OutputMap, features: FrozenFeatures | None = None):
    """Eval-mode logits of every eval set at eval point ``k``: target logits, or the source head's
    for the replay source set (preprocessed as the pretraining run did). With ``features`` (frozen
    shared backbone) only the members' heads run."""
    for name, e in eval_sets.items():
        imgs, out, p = e["images"], e["logits"], e.get("pre", pre)
        head = omap.source if e.get("output") == "source" else omap.target
        for i in range(0, len(imgs), batch_size):
            if features is None:
                z = ens.forward_eval(p(imgs[i:i + batch_size]), shared=True)
            else:
                z = ens.head_eval(features((name, i), lambda: p(imgs[i:i + batch_size])))
            out[:, k, i:i + batch_size] = head(z).to(torch.float16).cpu().numpy()


def _write_checkpoint(path, state_dict, recipe, in_shape, num_classes, pre, prov, steps, layout="plain",
                      n_source=None):
    """model.pt: the target network (a replay run's source head under ``source_head``; a
    class-mapped network keeps its source-class head, with ``class_map``)."""
    extra = {}
    if layout == "separate":
        extra["source_head"] = {k.rsplit(".", 1)[1]: state_dict.pop(k)
                                for k in ("head.source.weight", "head.source.bias")}
    if layout == "mapped":
        extra["class_map"] = recipe["class_map"]
        num_classes = n_source
    with atomic_path(path) as tmp:
        torch.save({"state_dict": state_dict, "arch": recipe["arch"], "arch_name": recipe["arch_name"],
                    "in_shape": list(in_shape), "num_classes": num_classes,
                    "preprocess": pre.as_dict(), "recipe": recipe, "steps": steps,
                    "provenance": prov, **extra}, tmp)


def _write_logits(path, eval_sets, m, evals, epochs, train_ids, prov):
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            f.create_dataset("steps", data=evals)
            f.create_dataset("epochs", data=epochs)
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
