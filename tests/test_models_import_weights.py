"""Published weights (torchvision-format ResNet-18) into our resnet18 with the ImageNet stem:
the name mapping against an independent plain-functional reference forward, the errors, the
engine's ``init_from.weights`` (head reinit / keep / class-mapped / zero-shot evaluation) and class
maps given as JSON files (paper 001's ImageNet -> CIFAR-10 setting at toy size, CPU only)."""
import json

import h5py
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import pointwise.config as pwconfig
from pointwise.data.store import ImageDataset, write_dataset
from pointwise.designs import build_design
from pointwise.models import build_model
from pointwise.models.import_weights import (WeightsImportError, check_arch, load_pretrained,
                                             pointwise_to_torchvision, read_weights, torchvision_name)
from pointwise.robustness.pipeline import zeroshot_tables
from pointwise.robustness.zeroshot import class_mapped_scores, load_class_map
from pointwise.train.engine import train_block

from conftest import ROOT

ARCH = {"family": "resnet18", "stem": "imagenet"}
N_SOURCE = 20          # a small "ImageNet" head keeps the files small; 1000 works the same
SIZE = 16              # 16 px: 8 after the stride-2 conv, 4 after the max-pool, 1 at layer4


def _bn(sd, p, c, g):
    sd[f"{p}.weight"] = 1 + 0.1 * torch.randn(c, generator=g)
    sd[f"{p}.bias"] = 0.1 * torch.randn(c, generator=g)
    sd[f"{p}.running_mean"] = 0.1 * torch.randn(c, generator=g)
    sd[f"{p}.running_var"] = 0.5 + torch.rand(c, generator=g)
    sd[f"{p}.num_batches_tracked"] = torch.tensor(100)


def _conv(c_out, c_in, k, g):
    return torch.randn(c_out, c_in, k, k, generator=g) * (2.0 / (c_in * k * k)) ** 0.5


def torchvision_resnet18_state_dict(n_classes=N_SOURCE, seed=0) -> dict:
    """Random tensors under torchvision.models.resnet18's state_dict names and shapes."""
    g = torch.Generator().manual_seed(seed)
    sd = {"conv1.weight": _conv(64, 3, 7, g)}
    _bn(sd, "bn1", 64, g)
    c_in = 64
    for s, c in enumerate((64, 128, 256, 512), start=1):
        for b in range(2):
            p = f"layer{s}.{b}"
            sd[f"{p}.conv1.weight"] = _conv(c, c_in, 3, g)
            _bn(sd, f"{p}.bn1", c, g)
            sd[f"{p}.conv2.weight"] = _conv(c, c, 3, g)
            _bn(sd, f"{p}.bn2", c, g)
            if s > 1 and b == 0:
                sd[f"{p}.downsample.0.weight"] = _conv(c, c_in, 1, g)
                _bn(sd, f"{p}.downsample.1", c, g)
            c_in = c
    sd["fc.weight"] = 0.05 * torch.randn(n_classes, 512, generator=g)
    sd["fc.bias"] = 0.05 * torch.randn(n_classes, generator=g)
    return sd


def reference_forward(sd, x):
    """torchvision's ResNet-18 forward in eval mode, in plain torch.nn.functional."""
    def bn(h, p):
        return F.batch_norm(h, sd[f"{p}.running_mean"], sd[f"{p}.running_var"], sd[f"{p}.weight"],
                            sd[f"{p}.bias"], training=False, eps=1e-5)

    h = F.relu(bn(F.conv2d(x, sd["conv1.weight"], stride=2, padding=3), "bn1"))
    h = F.max_pool2d(h, 3, 2, 1)
    for s in range(1, 5):
        for b in range(2):
            p, stride = f"layer{s}.{b}", (2 if s > 1 and b == 0 else 1)
            o = F.relu(bn(F.conv2d(h, sd[f"{p}.conv1.weight"], stride=stride, padding=1), f"{p}.bn1"))
            o = bn(F.conv2d(o, sd[f"{p}.conv2.weight"], padding=1), f"{p}.bn2")
            if f"{p}.downsample.0.weight" in sd:
                h = bn(F.conv2d(h, sd[f"{p}.downsample.0.weight"], stride=stride), f"{p}.downsample.1")
            h = F.relu(o + h)
    return F.linear(h.mean((2, 3)), sd["fc.weight"], sd["fc.bias"])


@pytest.fixture
def weights(tmp_path):
    sd = torchvision_resnet18_state_dict()
    path = tmp_path / "resnet18_tv.pth"
    torch.save(sd, path)
    return sd, path


def test_logits_match_the_functional_reference(weights):
    sd, path = weights
    model = build_model(ARCH, (3, SIZE, SIZE), N_SOURCE)
    mine = load_pretrained(path, model)
    missing, unexpected = model.load_state_dict(mine, strict=False)
    assert not missing and not unexpected
    model.eval()
    x = torch.randn(5, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        z, probes = model.forward_with_probes(x)
        ref = reference_forward(sd, x)
    np.testing.assert_allclose(z.numpy(), ref.numpy(), rtol=1e-4, atol=1e-4)
    assert list(probes) == model.probe_names            # probe names unchanged by the stem
    assert probes["stem"].shape[1] == 64 * (SIZE // 2) ** 2      # conv + norm, before the max-pool
    assert probes["layer4.1"].shape[1] == 512


def test_every_torchvision_name_maps_and_back():
    model = build_model(ARCH, (3, SIZE, SIZE), N_SOURCE)
    ours = set(model.state_dict())
    for key in torchvision_resnet18_state_dict():
        name = torchvision_name(key)
        assert name in ours, key
        assert pointwise_to_torchvision(name) == key
    assert torchvision_name("layer5.0.conv1.weight") is None


def test_num_batches_tracked_may_be_absent(weights, tmp_path):
    sd, _ = weights
    path = tmp_path / "old.pth"
    torch.save({k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}, path)
    model = build_model(ARCH, (3, SIZE, SIZE), N_SOURCE)
    assert "stem.weight" in load_pretrained(path, model)


@pytest.mark.parametrize("edit, message", [
    (lambda sd: sd.pop("layer3.1.bn2.running_var"), r"missing keys \['layer3.1.bn2.running_var'\]"),
    (lambda sd: sd.__setitem__("conv1.weight", torch.zeros(64, 3, 3, 3)), r"shape mismatches.*conv1.weight \(64, 3, 3, 3\)"),
    (lambda sd: sd.__setitem__("layer1.0.extra.weight", torch.zeros(1)), r"unexpected keys \['layer1.0.extra.weight'\]"),
])
def test_errors_name_the_offending_keys(weights, tmp_path, edit, message):
    sd = dict(weights[0])
    edit(sd)
    path = tmp_path / "bad.pth"
    torch.save(sd, path)
    with pytest.raises(WeightsImportError, match=message):
        load_pretrained(path, build_model(ARCH, (3, SIZE, SIZE), N_SOURCE))


def test_cifar_stem_and_missing_file_are_clear_errors(weights, tmp_path):
    _, path = weights
    with pytest.raises(WeightsImportError, match=r"conv1.weight \(64, 3, 7, 7\) vs stem.weight \(64, 3, 3, 3\)"):
        load_pretrained(path, build_model({"family": "resnet18"}, (3, SIZE, SIZE), N_SOURCE))
    with pytest.raises(WeightsImportError, match="does not exist.*resnet18-f37072fd.pth"):
        read_weights(tmp_path / "nope.pth")
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsImportError, match="cannot read"):
        read_weights(tmp_path / "junk.pth")
    with pytest.raises(WeightsImportError, match="stem: imagenet"):
        check_arch("torchvision", {"family": "resnet18"})
    check_arch("torchvision", ARCH)


# ----------------------------------------------------------------------------- config and engine

def _config(weights_path, class_map):
    base = {"steps": 2, "batch_size": 8, "optimizer": {"lr": 0.05}, "normalize": "none",
            "eval": {"count": 1, "at_start": True, "batch_size": 16}, "records": "none"}
    return {
        "scale": "t", "results": "r",
        "datasets": {"toy3": {"source": "synthetic", "n_train": 1, "n_test": 1, "num_classes": 4, "size": SIZE}},
        "archs": {"r18": ARCH},
        "recipes": {
            "reinit": {**base, "init_from": {"weights": str(weights_path), "train": "head"}},
            "keep_full": {**base, "init_from": {"weights": str(weights_path), "head": "keep", "train": "all"},
                          "class_map": class_map},
            "zeroshot": {**base, "steps": 0, "init_from": {"weights": str(weights_path), "head": "keep"}},
        },
        "experiments": {"ft": {"dataset": "toy3", "design": {"kind": "full", "seeds": 2},
                               "archs": {"r18": "reinit"}, "ensemble": 2}},
        "threads": 1, "device": "cpu",
    }


@pytest.fixture
def toy3(tmp_path):
    rng = np.random.default_rng(0)
    n = 32
    imgs = rng.integers(0, 256, (n, 3, SIZE, SIZE)).astype(np.uint8)
    y = np.arange(n) % 4
    path = tmp_path / "toy3.h5"
    write_dataset(ImageDataset("toy3", imgs, y, np.arange(n) + 1000, (np.arange(n) >= 24).astype(np.uint8), 4), path)
    return path, imgs


def _run(cfg, rec, data, tmp, tag):
    cfg = {**cfg, "experiments": {"ft": {**cfg["experiments"]["ft"], "archs": {"r18": rec}}}}
    cfg = pwconfig.validate(cfg)
    design = tmp / f"{tag}_design.h5"
    build_design("ft", cfg["experiments"]["ft"], data, design)
    recipe = pwconfig.recipe(cfg, "ft", "r18")
    outs = {k: [str(tmp / tag / f"m{m}" / f"{k}.out") for m in (0, 1)] for k in ("ckpt", "logits", "stats")}
    train_block(str(data), str(design), {"train": str(data), "test": str(data)}, outs, recipe, [0, 1],
                str(tmp / tag / "state"))
    return recipe, outs


def test_config_forms_and_checks(weights):
    _, path = weights
    cfg = pwconfig.validate(_config(path, [[0], [1], [2], [3]]))
    r = pwconfig.recipe(cfg, "ft", "r18")
    assert r["init_from"] == {"weights": str(path), "format": "torchvision", "head": "reinit", "train": "head"}
    bad = _config(path, [[0], [1], [2], [3]])
    bad["archs"]["r18"] = {"family": "resnet18"}
    with pytest.raises(pwconfig.ConfigError, match="init_from.weights.*stem: imagenet"):
        pwconfig.validate(bad)
    both = _config(path, [[0]])
    both["recipes"]["reinit"]["init_from"]["experiment"] = "ft"
    with pytest.raises(pwconfig.ConfigError, match="init_from"):
        pwconfig.validate(both)
    rep = _config(path, [[0], [1], [2], [3]])
    rep["recipes"]["keep_full"]["replay"] = {"dataset": "toy3", "ratio": 1}
    with pytest.raises(pwconfig.ConfigError, match="replay"):
        pwconfig.validate(rep)


def test_engine_starts_from_the_weights_head_reinit_and_keep(weights, toy3, tmp_path):
    sd, path = weights
    data, imgs = toy3
    groups = [[0, 1], [2, 3, 4], [5], [6, 7]]
    cmap_file = tmp_path / "map.json"
    cmap_file.write_text(json.dumps(groups))
    cfg = _config(path, str(cmap_file))
    converted = load_pretrained(path, build_model(ARCH, (3, SIZE, SIZE), N_SOURCE))

    # head reinit, train head: the backbone (BN statistics included) stays the file's, a fresh 4-way head
    _, outs = _run(cfg, "reinit", data, tmp_path, "reinit")
    for m in (0, 1):
        ck = torch.load(outs["ckpt"][m], weights_only=False)
        assert ck["num_classes"] == 4 and ck["state_dict"]["head.weight"].shape == (4, 512)
        for k, v in converted.items():
            if not k.startswith("head."):
                assert torch.equal(ck["state_dict"][k], v), k
    heads = [torch.load(o, weights_only=False)["state_dict"]["head.weight"] for o in outs["ckpt"]]
    assert not torch.equal(heads[0], heads[1])                    # each seed its own fresh head

    x = torch.from_numpy(imgs[24:]).float() / 255.0
    with torch.no_grad():
        ref = reference_forward(sd, x).numpy()
    # head keep + class map from a JSON file, full fine-tuning: step 0 = the file's logits, mapped
    recipe, outs = _run(cfg, "keep_full", data, tmp_path, "keep")
    with h5py.File(outs["logits"][0]) as f:
        z0 = f["test"]["logits"][0].astype(np.float32)
    np.testing.assert_allclose(z0, np.stack([ref[:, g].max(1) for g in groups], 1), atol=2e-2)
    ck = torch.load(outs["ckpt"][0], weights_only=False)
    assert ck["num_classes"] == N_SOURCE and ck["class_map"] == groups
    assert not torch.equal(ck["state_dict"]["stem.weight"], converted["stem.weight"])   # trained

    # head keep, steps 0: the pretrained head evaluated over its own classes (zero-shot input)
    _, outs = _run(cfg, "zeroshot", data, tmp_path, "zs")
    with h5py.File(outs["logits"][0]) as f:
        assert f["test"]["logits"].shape == (1, 8, N_SOURCE)
        np.testing.assert_allclose(f["test"]["logits"][0].astype(np.float32), ref, atol=2e-2)
    table, preds = zeroshot_tables({"zs": outs["logits"][0]},
                                   {"zs": {"experiment": "ft", "arch": "r18", "class_map": str(cmap_file)}},
                                   {"id": "test"}, {})
    labels = np.arange(24, 32) % 4
    for agg in ("max", "mean", "sum"):
        with h5py.File(outs["logits"][0]) as f:
            z = f["test"]["logits"][-1].astype(np.float64)
        want = float((class_mapped_scores(z, groups, agg).argmax(-1) == labels).mean())
        assert table.loc[table["agg"] == agg, "acc_id"].item() == pytest.approx(want)


def test_engine_rejects_a_kept_unmapped_head_when_training(weights, toy3, tmp_path):
    _, path = weights
    data, _ = toy3
    cfg = _config(path, [[0], [1], [2], [3]])
    cfg["recipes"]["zeroshot"]["steps"] = 2
    with pytest.raises(ValueError, match="kept pretrained head has 20 classes.*class_map"):
        _run(cfg, "zeroshot", data, tmp_path, "bad")


def test_missing_weights_file_fails_the_job_clearly(toy3, tmp_path):
    data, _ = toy3
    with pytest.raises(WeightsImportError, match="does not exist"):
        _run(_config(tmp_path / "absent.pth", [[0], [1], [2], [3]]), "reinit", data, tmp_path, "absent")


# ----------------------------------------------------------------------------- class maps

def test_class_map_file_and_inline(tmp_path):
    assert load_class_map([[0, 1], [2]]) == [[0, 1], [2]]
    p = tmp_path / "m.json"
    p.write_text("[[3], [1, 2]]")
    assert load_class_map(str(p)) == [[3], [1, 2]]
    with pytest.raises(FileNotFoundError, match="class map file"):
        load_class_map(str(tmp_path / "none.json"))
    p.write_text('{"a": 1}')
    with pytest.raises(ValueError, match="list of >= 2"):
        load_class_map(str(p))


def test_shipped_cinic10_imagenet_map():
    groups = load_class_map(str(ROOT / "pointwise/robustness/class_maps/cinic10_imagenet1k.json"))
    assert len(groups) == 10 and all(0 <= i < 1000 for g in groups for i in g)
    assert 404 in groups[0]                 # airliner -> airplane
    assert 817 in groups[1]                 # sports car -> automobile
    assert set(range(281, 286)) <= set(groups[3])   # the domestic cats -> cat
    assert 339 in groups[7]                 # sorrel -> horse
