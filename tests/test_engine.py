"""The training engine: ensemble equals one-at-a-time, resume is bit-identical, records are sound."""
import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest
import torch

import pointwise.config as pwconfig
from pointwise.designs import build_design
from pointwise.train import engine
from pointwise.train.engine import TrainingInterrupted, train_block

from conftest import ROOT

CONFIG = {
    "scale": "t", "results": "r",
    "datasets": {"toy": {"source": "synthetic", "n_train": 1, "n_test": 1, "num_classes": 4, "size": 12}},
    "archs": {"cnn": {"family": "small_cnn", "widths": [4, 8], "norm": "batch"},
              "mlp": {"family": "mlp", "depth": 2, "width": 16}},
    "recipes": {
        "q": {"epochs": 3, "batch_size": 32, "optimizer": {"lr": 0.05, "weight_decay": 5e-4},
              "schedule": {"kind": "cosine"}, "augment": {"crop_padding": 1, "flip": True},
              "eval": {"per_epoch": 2}},
        "head": {"epochs": 1, "batch_size": 16, "optimizer": {"lr": 0.1},
                 "init_from": {"experiment": "e", "arch": "cnn", "train": "head"}},
    },
    "experiments": {
        "e": {"dataset": "toy", "design": {"kind": "kfold", "folds": 2, "repeats": 2},
              "archs": {"cnn": "q", "mlp": "q"}, "ensemble": 2},
        "ft": {"dataset": "toy", "design": {"kind": "full", "seeds": 2}, "archs": {"cnn": "head"}},
    },
    "threads": 1, "device": "cpu",
}


@pytest.fixture
def setup(toy_h5, tmp_path):
    cfg = pwconfig.validate(CONFIG)
    design = tmp_path / "design.h5"
    build_design("e", cfg["experiments"]["e"], toy_h5, design)
    return cfg, toy_h5, design, tmp_path


def run(setup, arch, members, tag, recipe=None, **kw):
    cfg, data, design, tmp = setup
    recipe = recipe or pwconfig.recipe(cfg, "e", arch)
    outs = {k: [str(tmp / tag / f"m{m}" / f"{k}.out") for m in members] for k in ("ckpt", "logits", "stats")}
    train_block(str(data), str(design), {"train": str(data), "test": str(data)}, outs, recipe, members,
                str(tmp / tag / "state"), log_path=str(tmp / tag / "log.txt"), **kw)
    return outs


def load(outs, i):
    sd = torch.load(outs["ckpt"][i], weights_only=False)["state_dict"]
    with h5py.File(outs["logits"][i]) as f:
        logits = {k: f[k]["logits"][()] for k in ("train", "test")}
        steps = f["steps"][()]
    with h5py.File(outs["stats"][i]) as f:
        stats = {k: f[k][()] for k in ("loss", "correct", "margin", "step", "ids")}
    return sd, logits, steps, stats


@pytest.mark.parametrize("arch", ["cnn", "mlp"])
def test_ensemble_equals_one_seed_at_a_time(setup, arch):
    ens = run(setup, arch, [0, 1], "ens")
    for m in (0, 1):
        solo = run(setup, arch, [m], f"solo{m}")
        sd_e, lg_e, steps, st_e = load(ens, m)
        sd_s, lg_s, _, st_s = load(solo, 0)
        # first eval points (init and after a few steps) agree to float tolerance
        for name in lg_e:
            np.testing.assert_allclose(lg_e[name][:3].astype(np.float32), lg_s[name][:3].astype(np.float32),
                                       atol=2e-3, rtol=0)
        np.testing.assert_array_equal(st_e["ids"], st_s["ids"])
        np.testing.assert_array_equal(st_e["step"], st_s["step"])      # same data order
        for k in sd_e:
            torch.testing.assert_close(sd_e[k].float(), sd_s[k].float(), atol=1e-4, rtol=1e-4)
    # the two members are genuinely different runs
    assert not torch.equal(load(ens, 0)[0]["head.weight"], load(ens, 1)[0]["head.weight"])


@pytest.mark.parametrize("arch", ["cnn", "mlp"])
def test_vmap_and_loop_modes_agree(setup, arch):
    cfg = setup[0]
    outs = {mode: run(setup, arch, [0, 1], mode, recipe={**pwconfig.recipe(cfg, "e", arch), "ensemble_mode": mode})
            for mode in ("vmap", "loop")}
    assert "(vmap)" in (setup[3] / "vmap" / "log.txt").read_text()
    assert "(loop)" in (setup[3] / "loop" / "log.txt").read_text()
    for m in (0, 1):
        sd_v, lg_v, _, _ = load(outs["vmap"], m)
        sd_l, lg_l, _, _ = load(outs["loop"], m)
        np.testing.assert_allclose(lg_v["test"][:3].astype(np.float32), lg_l["test"][:3].astype(np.float32), atol=2e-3)
        for k in sd_v:
            torch.testing.assert_close(sd_v[k].float(), sd_l[k].float(), atol=1e-4, rtol=1e-4)


def test_same_seed_same_logits(setup):
    a, b = run(setup, "cnn", [0, 1], "a"), run(setup, "cnn", [0, 1], "b")
    for m in (0, 1):
        np.testing.assert_array_equal(load(a, m)[1]["test"], load(b, m)[1]["test"])


def test_resume_after_kill_is_bit_identical(setup, monkeypatch):
    cfg = setup[0]
    recipe = {**pwconfig.recipe(cfg, "e", "cnn"), "checkpoint_minutes": 1e-9}   # save every step
    ref = run(setup, "cnn", [0, 1], "ref", recipe=recipe)

    real_step = engine._train_step
    calls = {"n": 0}

    def dying_step(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt("simulated kill")
        return real_step(*args, **kw)

    monkeypatch.setattr(engine, "_train_step", dying_step)
    with pytest.raises(KeyboardInterrupt):
        run(setup, "cnn", [0, 1], "killed", recipe=recipe)
    monkeypatch.setattr(engine, "_train_step", real_step)
    assert (setup[3] / "killed" / "state" / "state.pt").exists()
    assert not os.path.exists(setup[3] / "killed" / "m0" / "logits.out")      # nothing half-written
    res = run(setup, "cnn", [0, 1], "killed", recipe=recipe)
    assert "resumed from" in (setup[3] / "killed" / "log.txt").read_text()
    for m in (0, 1):
        sd_r, lg_r, _, st_r = load(ref, m)
        sd_k, lg_k, _, st_k = load(res, m)
        for k in sd_r:
            assert torch.equal(sd_r[k], sd_k[k]), k
        for name in lg_r:
            np.testing.assert_array_equal(lg_r[name], lg_k[name])
        for k in st_r:
            np.testing.assert_array_equal(st_r[k], st_k[k])
    assert not (setup[3] / "killed" / "state" / "state.pt").exists()


SIGTERM_SCRIPT = """
import sys, time
sys.path.insert(0, {root!r})
from pointwise.train import engine
real = engine._train_step
def slow(*a, **k):
    time.sleep(0.05)
    return real(*a, **k)
engine._train_step = slow
import pickle
args = pickle.load(open({args!r}, "rb"))
try:
    engine.train_block(**args)
except engine.TrainingInterrupted as e:
    print("interrupted:", e, flush=True)
    sys.exit(3)
"""


def test_sigterm_saves_state_and_rerun_resumes(setup):
    import pickle
    cfg, data, design, tmp = setup
    recipe = pwconfig.recipe(cfg, "e", "mlp")
    ref = run(setup, "mlp", [0, 1], "ref")
    outs = {k: [str(tmp / "sig" / f"m{m}" / f"{k}.out") for m in (0, 1)] for k in ("ckpt", "logits", "stats")}
    args = dict(data=str(data), design=str(design), eval_data={"train": str(data), "test": str(data)},
                outputs=outs, recipe=recipe, members=[0, 1], state_dir=str(tmp / "sig" / "state"),
                log_path=str(tmp / "sig" / "log.txt"))
    pickle.dump(args, open(tmp / "args.pkl", "wb"))
    script = tmp / "run.py"
    script.write_text(SIGTERM_SCRIPT.format(root=str(ROOT), args=str(tmp / "args.pkl")))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    log = tmp / "sig" / "log.txt"
    deadline = time.time() + 60
    while time.time() < deadline and not (log.exists() and "step " in log.read_text()):
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 3, out
    assert "interrupted" in out
    assert (tmp / "sig" / "state" / "state.pt").exists()
    train_block(**args)                                   # the retry
    for m in (0, 1):
        np.testing.assert_array_equal(load(ref, m)[1]["test"], load(outs, m)[1]["test"])


def test_records_one_presentation_per_epoch(setup):
    outs = run(setup, "cnn", [0], "rec")
    _, logits, steps, st = load(outs, 0)
    n_train = len(st["ids"])
    assert n_train == 60                                   # half of the 120-example pool
    full_epochs = (st["step"] >= 0).all(axis=1)
    assert full_epochs.sum() == 3                          # 3 epochs of 60 = 180 presentations
    # eval mode records: correct iff the label margin is positive
    seen = st["step"] >= 0
    np.testing.assert_array_equal(st["correct"][seen], st["margin"][seen] > 0)
    assert logits["test"].dtype == np.float16
    assert steps[0] == 0 and logits["train"].shape[0] == len(steps)


def test_head_only_finetuning_keeps_the_backbone(setup):
    cfg, data, design, tmp = setup
    src = run(setup, "cnn", [0], "src")
    recipe = pwconfig.recipe(cfg, "ft", "cnn")
    recipe["experiment"] = "e"
    out = run(setup, "cnn", [0, 1], "ft", recipe=recipe, init_checkpoints=[src["ckpt"][0]] * 2)
    pre = torch.load(src["ckpt"][0], weights_only=False)["state_dict"]
    for m in (0, 1):
        post = torch.load(out["ckpt"][m], weights_only=False)["state_dict"]
        for k in pre:
            if k.startswith("head."):
                assert not torch.equal(pre[k], post[k])
            else:
                assert torch.equal(pre[k], post[k]), k         # frozen, BN statistics included


def test_untrained_network(setup):
    r0 = {**pwconfig.recipe(setup[0], "e", "mlp"), "steps": 0, "records": "none"}
    _, logits, steps, st = load(run(setup, "mlp", [0], "zero", recipe=r0), 0)
    assert steps.tolist() == [0] and logits["test"].shape[0] == 1 and st["loss"].shape[0] == 0


def test_snapshots(setup):
    cfg, data, design, tmp = setup
    # 60 examples, batch 32: 1.875 steps per epoch, 6 steps in all; epoch 1 -> step 2
    recipe = {**pwconfig.recipe(cfg, "e", "mlp"), "snapshots": {"epochs": [1], "steps": [0, 6]}}
    outs = {k: [str(tmp / "snap" / f"{k}.out")] for k in ("ckpt", "logits", "stats", "snapshots")}
    train_block(str(data), str(design), {"train": str(data), "test": str(data)}, outs, recipe, [0],
                str(tmp / "snap" / "state"))
    snaps = torch.load(outs["snapshots"][0], weights_only=False)
    assert snaps["steps"] == [0, 2, 6]
    init, mid, end = snaps["state_dicts"]
    final = torch.load(outs["ckpt"][0], weights_only=False)["state_dict"]
    zero = run(setup, "mlp", [0], "zero", recipe={**pwconfig.recipe(cfg, "e", "mlp"), "steps": 0})
    untrained = torch.load(zero["ckpt"][0], weights_only=False)["state_dict"]
    for k in final:
        assert torch.equal(end[k], final[k])
        assert torch.equal(init[k], untrained[k])
    assert not torch.equal(mid["head.weight"], init["head.weight"])
    assert not torch.equal(mid["head.weight"], end["head.weight"])


def test_interrupted_class_is_runtime_error():
    assert issubclass(TrainingInterrupted, RuntimeError)
