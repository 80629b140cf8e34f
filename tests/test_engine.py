"""The training engine: ensemble equals one-at-a-time, resume is bit-identical, records are sound;
the fine-tuning variants of paper 001 (replay, class-mapped head, L2 to init, phase-out)."""
import json
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


# ---------------------------------------------------------------- fine-tuning variants (paper 001 §5.5)

def _ft_recipe(cfg, **changes):
    r = pwconfig.recipe(cfg, "ft", "cnn")
    r["experiment"] = "e"
    r["init_from"] = {**r["init_from"], "train": "all"}
    r["eval_sets"] = {"train": ["toy", "train"], "test": ["toy", "test"]}
    r.update(changes)
    return r


@pytest.fixture
def pretrained(setup):
    return run(setup, "cnn", [0], "src")["ckpt"][0]


def test_replay_ratio_zero_only_tracks_the_source(setup, pretrained, toy_h5):
    """A kept source head without source examples changes nothing for the target: the run equals
    the plain fine-tuning run; the source head stays the pretrained head and its step-0 source
    logits are the pretrained network's."""
    cfg = setup[0]
    plain = run(setup, "cnn", [0, 1], "plain", recipe=_ft_recipe(cfg), init_checkpoints=[pretrained] * 2)
    track = run(setup, "cnn", [0, 1], "track", init_checkpoints=[pretrained] * 2, replay_data=str(toy_h5),
                recipe=_ft_recipe(cfg, replay={"dataset": "toy", "ratio": 0, "split": "train", "eval_split": "test"}))
    src = torch.load(pretrained, weights_only=False)
    for m in (0, 1):
        sd_p, lg_p, _, _ = load(plain, m)
        sd_t, lg_t, _, _ = load(track, m)
        for name in lg_p:
            np.testing.assert_array_equal(lg_p[name], lg_t[name])
        for k in sd_p:
            assert torch.equal(sd_p[k], sd_t[k]), k
        ck = torch.load(track["ckpt"][m], weights_only=False)
        assert set(ck["state_dict"]) == set(sd_p)                      # loads into the target network
        assert torch.equal(ck["source_head"]["weight"], src["state_dict"]["head.weight"])   # frozen
        with h5py.File(track["logits"][m]) as f:
            z0 = f["source"]["logits"][0].astype(np.float32)
            assert f["source"].attrs["dataset"] == "toy" and z0.shape == (40, 4)
            rows = f["source"]["rows"][()]
    from pointwise.data.store import read_dataset
    from pointwise.models import build_model
    from pointwise.train.engine import Preprocess
    net = build_model(src["arch"], tuple(src["in_shape"]), src["num_classes"])
    net.load_state_dict(src["state_dict"])
    net.eval()
    p = src["preprocess"]
    pre = Preprocess(np.array(p["mean"], np.float32), np.array(p["std"], np.float32), tuple(p["pad"]))
    with torch.no_grad():
        ref = net(pre(torch.from_numpy(read_dataset(toy_h5).images[rows]))).numpy()
    np.testing.assert_allclose(z0, ref, atol=2e-2)


def test_replay_mixes_source_examples_into_every_batch(setup, pretrained, toy_h5, monkeypatch):
    cfg = setup[0]
    seen = []
    real = engine.replay_loss

    def spy(per_target, per_source):
        seen.append((tuple(per_target.shape), None if per_source is None else tuple(per_source.shape)))
        return real(per_target, per_source)

    monkeypatch.setattr(engine, "replay_loss", spy)
    rep = {"dataset": "toy", "ratio": 0.5, "split": "train", "eval_split": "test"}
    out = run(setup, "cnn", [0, 1], "rep", init_checkpoints=[pretrained] * 2, replay_data=str(toy_h5),
              recipe=_ft_recipe(cfg, replay=rep))
    assert seen and all(s == ((2, 16), (2, 8)) for s in seen)          # B = 16 target + 8 source per member
    src = torch.load(pretrained, weights_only=False)["state_dict"]["head.weight"]
    ck = torch.load(out["ckpt"][0], weights_only=False)
    assert not torch.equal(ck["source_head"]["weight"], src)            # the source head trains on replay
    assert ck["num_classes"] == 4 and ck["provenance"]["variants"]["replay"]["ratio"] == 0.5


def test_class_mapped_head_predicts_through_the_map(setup, tmp_path):
    """Pretrain on 8 classes, fine-tune the kept head on 4 through the map {c: [2c, 2c+1]}: the
    stored target logits at step 0 are the max of each pair of the pretrained logits."""
    from conftest import toy_dataset
    from pointwise.data.store import read_dataset, write_dataset
    from pointwise.models import build_model
    from pointwise.train.engine import make_preprocess
    cfg, data, design, tmp = setup
    src8 = tmp_path / "toy8.h5"
    write_dataset(toy_dataset(classes=8, seed=1), src8)
    d8 = tmp_path / "d8.h5"
    build_design("pre8", {"dataset": "toy8", "design": {"kind": "full", "seeds": 1}}, src8, d8)
    outs8 = {k: [str(tmp / "pre8" / f"{k}.out")] for k in ("ckpt", "logits", "stats")}
    rpre = {**pwconfig.recipe(cfg, "e", "cnn"), "eval_sets": {"test": ["toy8", "test"]}, "experiment": "pre8"}
    train_block(str(src8), str(d8), {"test": str(src8)}, outs8, rpre, [0], str(tmp / "pre8" / "state"))
    cmap = [[0, 1], [2, 3], [4, 5], [6, 7]]
    r = _ft_recipe(cfg, class_map=cmap)
    r["init_from"] = {**r["init_from"], "head": "keep", "train": "head"}
    out = run(setup, "cnn", [0], "cm", recipe=r, init_checkpoints=outs8["ckpt"])
    with h5py.File(out["logits"][0]) as f:
        z0 = f["test"]["logits"][0].astype(np.float32)
        rows = f["test"]["rows"][()]
    assert z0.shape == (40, 4)
    ck = torch.load(outs8["ckpt"][0], weights_only=False)
    net = build_model(ck["arch"], tuple(ck["in_shape"]), 8)
    net.load_state_dict(ck["state_dict"])
    net.eval()
    ds = read_dataset(data)
    pre = make_preprocess(ds.images[read_design_rows(design)], r)
    with torch.no_grad():
        z8 = net(pre(torch.from_numpy(ds.images[rows]))).numpy()
    np.testing.assert_allclose(z0, z8.reshape(40, 4, 2).max(-1), atol=2e-2)
    final = torch.load(out["ckpt"][0], weights_only=False)
    assert final["num_classes"] == 8 and final["class_map"] == cmap
    assert not torch.equal(final["state_dict"]["head.weight"], ck["state_dict"]["head.weight"])


def read_design_rows(design):
    from pointwise.designs import read_design
    return read_design(design)["pool_rows"]


def test_l2_to_init_holds_the_network_near_the_pretrained_weights(setup, pretrained):
    cfg = setup[0]
    free = run(setup, "cnn", [0], "free", recipe=_ft_recipe(cfg, epochs=4), init_checkpoints=[pretrained])
    tied = run(setup, "cnn", [0], "tied", recipe=_ft_recipe(cfg, l2_init={"lambda": 5.0}, epochs=4),
               init_checkpoints=[pretrained])
    zero = run(setup, "cnn", [0], "zero", recipe=_ft_recipe(cfg, l2_init={"lambda": 0.0}, epochs=4),
               init_checkpoints=[pretrained])
    src = torch.load(pretrained, weights_only=False)["state_dict"]

    def dist(outs):
        sd = load(outs, 0)[0]
        return sum(float(((sd[k].float() - src[k].float()) ** 2).sum()) for k in sd
                   if not k.startswith("head.") and sd[k].is_floating_point() and "running" not in k)

    assert dist(tied) < 0.2 * dist(free)
    for k, v in load(free, 0)[0].items():
        assert torch.equal(v, load(zero, 0)[0][k]), k                   # lambda 0 is plain fine-tuning
    with pytest.raises(ValueError, match="no trained parameter"):       # head-only with a fresh head
        r = _ft_recipe(cfg, l2_init={"lambda": 1.0})
        r["init_from"]["train"] = "head"
        run(setup, "cnn", [0], "bad", recipe=r, init_checkpoints=[pretrained])


def _phaseout_design(setup, path):
    """Every seed trains on the whole pool with a 3-epoch mask: all 120, the first 40, the first 10."""
    build_design("po", {"design": {"kind": "full", "seeds": 2}}, setup[1], path)
    mask = np.zeros((3, 120), dtype=bool)
    mask[0] = True
    mask[1, :40] = True
    mask[2, :10] = True
    with h5py.File(path, "a") as f:
        f.create_dataset("epoch_mask", data=mask)
    return mask


def test_phaseout_schedule_trains_each_epoch_on_its_subset(setup, tmp_path):
    from pointwise.train.epochs import EpochClock
    cfg, data, _, tmp = setup
    design = tmp_path / "po.h5"
    mask = _phaseout_design(setup, design)
    recipe = {**pwconfig.recipe(cfg, "e", "mlp"), "records": "train_forward",
              "eval": {"per_epoch": 1, "at_start": True, "batch_size": 1024}}
    outs = {k: [str(tmp / "po" / f"m{m}" / f"{k}.out") for m in (0, 1)] for k in ("ckpt", "logits", "stats")}
    train_block(str(data), str(design), {"train": str(data), "test": str(data)}, outs, recipe, [0, 1],
                str(tmp / "po" / "state"))
    clock = EpochClock([120, 40, 10], 32)
    for m in (0, 1):
        _, _, steps, st = load(outs, m)
        seen = st["step"] >= 0
        np.testing.assert_array_equal(seen[:3], mask)                   # each epoch exactly its kept examples
        assert not (seen[3:] & ~mask[2]).any()                          # the last batch runs on into row 2
        assert steps[-1] == 6                                           # ceil(170 / 32)
        with h5py.File(outs["logits"][m]) as f:
            assert json.loads(f.attrs["variants"])["epoch_schedule_sizes"] == [120, 40, 10]
            np.testing.assert_allclose(f["epochs"][()], clock.epoch_at(f["steps"][()]))
            np.testing.assert_array_equal(f["steps"][()], [0, 4, 5, 6])  # per_epoch through the clock
    with pytest.raises(ValueError, match="epoch schedule has 3"):
        train_block(str(data), str(design), {"train": str(data), "test": str(data)}, outs,
                    {**recipe, "epochs": 4}, [0], str(tmp / "po4" / "state"))


def test_resume_with_variants_is_bit_identical(setup, pretrained, toy_h5, tmp_path, monkeypatch):
    cfg = setup[0]
    design = tmp_path / "po.h5"
    _phaseout_design(setup, design)
    recipe = _ft_recipe(cfg, replay={"dataset": "toy", "ratio": 1.0, "split": "train", "eval_split": "test"},
                        l2_init={"lambda": 0.5}, epochs=3, checkpoint_minutes=1e-9, records="train_forward")
    recipe["augment"] = {"crop_padding": 1, "flip": True}

    def go(tag):
        outs = {k: [str(tmp_path / tag / f"m{m}" / f"{k}.out") for m in (0, 1)] for k in ("ckpt", "logits", "stats")}
        train_block(str(setup[1]), str(design), {"train": str(setup[1]), "test": str(setup[1])}, outs, recipe,
                    [0, 1], str(tmp_path / tag / "state"), log_path=str(tmp_path / tag / "log.txt"),
                    init_checkpoints=[pretrained] * 2, replay_data=str(toy_h5))
        return outs

    ref = go("ref")
    real_step = engine._train_step
    calls = {"n": 0}

    def dying_step(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt("simulated kill")
        return real_step(*args, **kw)

    monkeypatch.setattr(engine, "_train_step", dying_step)
    with pytest.raises(KeyboardInterrupt):
        go("killed")
    monkeypatch.setattr(engine, "_train_step", real_step)
    res = go("killed")
    assert "resumed from" in (tmp_path / "killed" / "log.txt").read_text()
    for m in (0, 1):
        a, b = torch.load(ref["ckpt"][m], weights_only=False), torch.load(res["ckpt"][m], weights_only=False)
        for k in a["state_dict"]:
            assert torch.equal(a["state_dict"][k], b["state_dict"][k]), k
        assert torch.equal(a["source_head"]["weight"], b["source_head"]["weight"])
        with h5py.File(ref["logits"][m]) as f, h5py.File(res["logits"][m]) as g:
            for name in ("train", "test", "source"):
                np.testing.assert_array_equal(f[name]["logits"][()], g[name]["logits"][()])
        np.testing.assert_array_equal(load(ref, m)[3]["step"], load(res, m)[3]["step"])


def test_head_only_eval_reuses_the_shared_backbone_features(setup, pretrained, monkeypatch):
    """Head-only runs from one checkpoint evaluate each member's head on backbone features computed
    once: the stored logits equal a full forward pass of every member at every eval point."""
    cfg = setup[0]
    r = _ft_recipe(cfg)
    r["init_from"] = {**r["init_from"], "train": "head"}
    r["eval"] = {**r["eval"], "per_epoch": 4}
    calls = {"n": 0}
    real = engine.FrozenFeatures

    class Counting(real):
        def __call__(self, key, x_fn):
            calls["n"] += key not in self.cache
            return super().__call__(key, x_fn)

    monkeypatch.setattr(engine, "FrozenFeatures", Counting)
    cached = run(setup, "cnn", [0, 1], "cached", recipe=r, init_checkpoints=[pretrained] * 2)
    assert calls["n"] == 2                                          # one backbone pass per eval set
    monkeypatch.setattr(engine, "FrozenFeatures", lambda model: None)
    full = run(setup, "cnn", [0, 1], "full", recipe=r, init_checkpoints=[pretrained] * 2)
    for m in (0, 1):
        _, lc, steps, _ = load(cached, m)
        _, lf, _, _ = load(full, m)
        assert len(steps) > 3
        for name in lc:
            np.testing.assert_allclose(lc[name].astype(np.float32), lf[name].astype(np.float32), atol=1e-3, rtol=0)
