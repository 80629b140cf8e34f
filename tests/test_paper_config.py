"""configs/paper.yaml: it validates (schema + cross references) and pins the papers' run counts and
recipes to the specs (specs/paper_00{0,1,2,3}_*.md)."""
import math

import pytest
import yaml

import pointwise.config as pwconfig
from pointwise.train.engine import eval_steps, total_steps

from conftest import ROOT

PAPER = ROOT / "configs" / "paper.yaml"

# Paper 002 Table 1 (spec 002 §4.3): (dataset, arch) -> (lr, momentum, phases in steps)
TABLE1 = {
    ("svhn", "resnet18"): (0.04, 0.95, [7000]),
    ("svhn", "vgg16"): (0.04, 0.9, [3000, 6000, 1000]),
    ("svhn", "mlp"): (0.04, 0.9, [2500, 5500, 2000]),
    ("fmnist", "resnet18"): (0.01, 0.95, [4000, 3000]),
    ("fmnist", "vgg16"): (0.01, 0.95, [3000, 6000, 1000]),
    ("fmnist", "mlp"): (0.04, 0.5, [10000, 2500]),
    ("cifar10", "resnet18"): (0.04, 0.95, [7000]),
    ("cifar10", "vgg16"): (0.04, 0.9, [5000, 1000]),
    ("cifar10", "mlp"): (0.02, 0.9, [5000, 1250, 1000]),
    ("noise40", "vgg16"): (0.04, 0.9, [5000, 10000]),
    ("noise40", "mlp"): (0.02, 0.9, [12000, 1250, 4000]),
    ("cifar100", "resnet18"): (0.1, 0.95, [6000]),
    ("cifar100", "vgg16"): (0.04, 0.9, [2500, 7500]),
    ("cifar100", "mlp"): (0.1, 0.95, [2500, 6000, 1500]),
}
DEPTH_DATASETS = {"cifar10": "cifar10", "cifar100": "cifar100", "svhn": "svhn", "fmnist": "fashion_mnist"}
DEPTH_ARCHS = {"resnet18_gnws": "resnet18", "vgg16_nobn": "vgg16", "mlp7": "mlp"}


@pytest.fixture(scope="module")
def raw():
    with open(PAPER) as fh:
        return yaml.safe_load(fh)


@pytest.fixture(scope="module")
def cfg():
    return pwconfig.load(PAPER)


def recipe(cfg, exp, arch):
    return pwconfig.recipe(cfg, exp, arch)


def test_yaml_loads_and_top_level(raw):
    assert raw["scale"] == "paper"
    assert raw["results"] == "results/paper"
    assert raw["device"] == "auto"


def test_validates_and_every_recipe_resolves(cfg):
    for exp, spec in cfg["experiments"].items():
        assert spec["gpu"] is True, exp
        assert pwconfig.n_seeds(cfg, exp) % pwconfig.ensemble_size(cfg, exp) == 0
        assert "ensemble" in spec, f"{exp}: set ensemble explicitly at paper scale"
        for arch in spec["archs"]:
            r = recipe(cfg, exp, arch)
            assert r["optimizer"]["lr"] > 0


def test_pretrained_sources_exist(cfg):
    """Every init_from names a seed and arch its source experiment trains."""
    for exp, spec in cfg["experiments"].items():
        for arch in spec["archs"]:
            init = recipe(cfg, exp, arch).get("init_from")
            if init and "weights" in init:       # a published weights file under the data root
                assert init["weights"].startswith("/path/to/datasets/"), (exp, arch)
            elif init:
                assert init["seed"] < pwconfig.n_seeds(cfg, init["experiment"]), (exp, arch)
                assert init["arch"] in cfg["experiments"][init["experiment"]]["archs"], (exp, arch)


def test_dataset_paths_are_placeholders_under_one_root(raw):
    downloadable = {"fashion_mnist", "cifar10", "cifar100", "svhn"}
    sources = {name: spec for name, spec in raw["datasets"].items() if "source" in spec}
    assert {s["source"] for s in sources.values()} == downloadable | {"cifar10_1", "cifar10_2", "cinic10"}
    for name, spec in sources.items():
        assert spec["path"].startswith("/path/to/datasets/"), name
        assert spec.get("download", False) == (spec["source"] in downloadable), name


def test_every_model_builds_for_its_data(cfg):
    """Each (experiment, arch) builds at its input shape (FMNIST conv nets padded 28 -> 32)."""
    from pointwise.models import build_model

    classes = {"cifar100": 100, "cifar100_n5k": 100, "cifar100_n10k": 100, "cifar100_n25k": 100,
               "cifar100_coarse": 20}
    seen = set()
    for exp, spec in cfg["experiments"].items():
        for arch in spec["archs"]:
            r = recipe(cfg, exp, arch)
            side = r.get("pad_to") or (28 if spec["dataset"] == "fashion_mnist" else 32)
            shape = (1 if spec["dataset"] == "fashion_mnist" else 3, side, side)
            key = (arch, shape, classes.get(spec["dataset"], 10))
            if key not in seen:
                seen.add(key)
                build_model(r["arch"], shape, key[2])


# ----------------------------------------------------------------------------- paper 000

def test_profiles_scratch_50_runs_of_10k_subsets(cfg):
    exp = cfg["experiments"]["profiles_scratch_cifar10"]
    assert exp["dataset"] == "cifar10"
    assert exp["design"] == {"kind": "random_subset", "size": 10000, "seeds": 50, "stratified": False}
    assert set(exp["archs"]) == {"resnet18", "densenet121"}
    assert cfg["archs"]["resnet18"] == {"family": "resnet18", "norm": "batch"}
    assert cfg["archs"]["densenet121"]["growth"] == 32
    for arch in exp["archs"]:
        r = recipe(cfg, "profiles_scratch_cifar10", arch)
        assert r["epochs"] == 30 and r["batch_size"] == 128
        assert r["optimizer"] == {"lr": 0.01, "momentum": 0.9, "weight_decay": 5e-4, "nesterov": False}
        assert r["schedule"]["kind"] == "cosine"
        assert r["augment"] == {"crop_padding": 4, "flip": True}
        # twice per epoch: K = 60 evaluations at epochs 0.5 .. 30 (spec 000 §3.2)
        T = total_steps(r, 10000, 128)
        assert len(eval_steps(r, T, 10000 / 128)) == 60
    sets = pwconfig.eval_sets(cfg, "profiles_scratch_cifar10")
    assert sets["test"] == ("cifar10", "test")
    assert sets["cinic_pool"] == ("cinic10_imagenet", "test")
    assert sets["cifar10_2"] == ("cifar10_2", "test")
    assert cfg["datasets"]["cinic10_imagenet"]["imagenet_only"] is True


def test_profiles_pretrained_configs(cfg):
    pre = cfg["experiments"]["profiles_pretrain_cifar100"]
    assert pre["dataset"] == "cifar100" and pre["design"]["seeds"] == 1      # one network per arch
    exp = cfg["experiments"]["profiles_finetune_cifar10"]
    assert exp["design"] == {"kind": "random_subset", "size": 5000, "seeds": 50, "stratified": False}
    for arch in exp["archs"]:
        r = recipe(cfg, "profiles_finetune_cifar10", arch)
        assert r["init_from"] == {"experiment": "profiles_pretrain_cifar100", "arch": arch, "seed": 0,
                                  "head": "reinit", "train": "all"}
        assert r["epochs"] == 3 and r["batch_size"] == 128
        assert r["optimizer"]["lr"] == 0.001 and r["optimizer"]["weight_decay"] == 0.0
        T = total_steps(r, 5000, 128)
        assert 30 <= len(eval_steps(r, T, 5000 / 128)) <= 31                  # 10 per epoch (K = 30)


# ----------------------------------------------------------------------------- paper 001

def test_robust_finetuning_pretrained_vs_random_init(cfg):
    for name in ("robust_ft_pretrained_cifar10", "robust_ft_scratch_cifar10", "robust_head_cifar10"):
        exp = cfg["experiments"][name]
        assert exp["design"]["seeds"] == 5 and exp["dataset"] == "cifar10"
        sets = pwconfig.eval_sets(cfg, name)
        assert sets["test"] == ("cifar10", "test") and sets["cifar10_1"] == ("cifar10_1", "test")
        for arch in exp["archs"]:
            r = recipe(cfg, name, arch)
            assert r["eval"]["per_epoch"] == 1                                 # every epoch
    pre = recipe(cfg, "robust_ft_pretrained_cifar10", "resnet18")
    rand = recipe(cfg, "robust_ft_scratch_cifar10", "resnet18")
    assert pre["init_from"]["experiment"] == "profiles_pretrain_cifar100"     # shared with paper 000
    assert "init_from" not in rand
    assert (pre["epochs"], pre["optimizer"]["lr"], pre["batch_size"]) == (100, 0.001, 64)
    assert (rand["epochs"], rand["optimizer"]["lr"], rand["batch_size"]) == (250, 0.01, 64)
    assert recipe(cfg, "robust_head_cifar10", "resnet18")["init_from"]["train"] == "head"


def test_robust_imagenet_pretrained_main_setting(cfg):
    """Spec 001 §4: torchvision's ImageNet ResNet-18 (local weights) fine-tuned on CIFAR-10, full
    and head-only, class-mapped head and zero-shot through the CINIC-10 map (shipped file)."""
    from pointwise.robustness.zeroshot import load_class_map
    arch = "resnet18_imagenet"
    assert cfg["archs"][arch] == {"family": "resnet18", "norm": "batch", "stem": "imagenet"}
    full = recipe(cfg, "robust_imagenet_ft_cifar10", arch)
    head = recipe(cfg, "robust_imagenet_head_cifar10", arch)
    zs = recipe(cfg, "robust_imagenet_zeroshot", arch)
    cm = recipe(cfg, "robust_imagenet_cm_cifar10", arch)
    for r in (full, head, zs, cm):
        assert r["init_from"]["format"] == "torchvision" and r["init_from"]["weights"].endswith(".pth")
    assert (full["epochs"], full["optimizer"]["lr"], full["batch_size"]) == (100, 0.001, 64)
    assert full["init_from"]["train"] == "all" and head["init_from"]["train"] == "head"
    assert zs["steps"] == 0 and zs["init_from"]["head"] == "keep"
    assert cm["init_from"]["head"] == "keep" and cm["class_map"] == cfg["papers"]["robustness"]["zeroshot"][
        "imnet_resnet18"]["class_map"]
    assert len(load_class_map(str(ROOT / cm["class_map"]))) == 10
    rb = cfg["papers"]["robustness"]
    assert "imnet_full_resnet18" in rb["main"]["full"] and "imnet_head_resnet18" in rb["main"]["head"]
    for name in ("robust_imagenet_ft_cifar10", "robust_imagenet_head_cifar10", "robust_imagenet_zeroshot"):
        sets = pwconfig.eval_sets(cfg, name)
        assert sets["test"] == ("cifar10", "test") and sets["cifar10_1"] == ("cifar10_1", "test")


def test_robust_testbed_is_from_scratch_and_sees_cifar10_1(cfg):
    testbed = [e for e in cfg["experiments"] if e.startswith("robust_testbed")]
    shared = ["profiles_scratch_cifar10", "depth_full_cifar10", "scores_cifar10", "scores_variants_cifar10"]
    n_models = 0
    for name in testbed + shared:
        exp = cfg["experiments"][name]
        assert "cifar10_1" in pwconfig.eval_sets(cfg, name), name
        for arch in exp["archs"]:
            assert "init_from" not in recipe(cfg, name, arch), (name, arch)
            n_models += 1
    assert 30 <= n_models <= 60                                               # spec 001 §5: 30-40 (+ shared)


# ----------------------------------------------------------------------------- paper 002

@pytest.mark.parametrize("ds", sorted(DEPTH_DATASETS))
def test_depth_split_and_full_run_counts(cfg, ds):
    split = cfg["experiments"][f"depth_split_{ds}"]
    full = cfg["experiments"][f"depth_full_{ds}"]
    assert split["dataset"] == full["dataset"] == DEPTH_DATASETS[ds]
    assert split["design"] == {"kind": "random_fraction", "fraction": 0.9, "seeds": 250, "stratified": False}
    assert full["design"]["kind"] == "full" and full["design"]["seeds"] == 25
    assert set(split["archs"]) == set(full["archs"]) == set(DEPTH_ARCHS)
    assert split["archs"] == full["archs"]


def test_depth_full_ensembles_are_probed(cfg):
    """Every SPLIT ensemble has its FULL ensemble probed (papers.depth.full); the FULL runs carry
    the input margins of both splits (C.28-C.31), the SPLIT runs none; the one-line-per-dataset
    figures read the FULL runs for Fig 4 middle and the SPLIT runs otherwise."""
    from pointwise.depth.pipeline import dataset_figure_inputs, full_models, input_margin_splits, settings

    st = settings(cfg)
    assert st["full"] == {f"depth_split_{ds}": f"depth_full_{ds}" for ds in DEPTH_DATASETS}
    fm = full_models(cfg, st)
    assert len(fm) == len(DEPTH_DATASETS) * len(DEPTH_ARCHS)
    assert all(input_margin_splits(cfg, st, e, a) == ["train", "test"] for e, a in fm)
    assert all(input_margin_splits(cfg, st, f"depth_split_{ds}", a) == []
               for ds in DEPTH_DATASETS for a in DEPTH_ARCHS)
    # the main-text Fig 4 middle of an arch: one line per dataset, from the FULL runs
    lines = dataset_figure_inputs(cfg, st, "fig4_middle_datasets", "resnet18_gnws")
    assert lines == {f"loo_by_depth::{d}": f"depth_full_{ds}/resnet18_gnws/loo_by_depth.csv"
                     for ds, d in DEPTH_DATASETS.items()}
    assert set(dataset_figure_inputs(cfg, st, "fig4_right_datasets", "mlp7").values()) == \
        {f"depth_split_{ds}/mlp7/by_depth.csv" for ds in DEPTH_DATASETS}


def test_depth_archs(cfg):
    from pointwise.models import build_model

    a = cfg["archs"]
    assert a["resnet18_gnws"] == {"family": "resnet18", "norm": "group_ws"}
    assert a["vgg16_nobn"] == {"family": "vgg", "depth": 16, "width": 64, "batch_norm": False, "head": "flatten"}
    assert a["mlp7"] == {"family": "mlp", "depth": 7, "width": 2048}
    # L = index of the softmax probe: ResNet18 10, VGG16 14, MLP 8 (spec 002 §3.1, claim 8)
    assert len(build_model(a["resnet18_gnws"], (3, 32, 32), 10).probe_names) - 1 == 10
    assert len(build_model(a["vgg16_nobn"], (3, 32, 32), 10).probe_names) - 1 == 14
    assert len(build_model(a["mlp7"], (3, 32, 32), 10).probe_names) - 1 == 8


@pytest.mark.parametrize("ds", sorted(DEPTH_DATASETS) + ["noise40"])
def test_depth_table1_recipes(cfg, ds):
    exps = ["depth_noise40_cifar10"] if ds == "noise40" else [f"depth_split_{ds}", f"depth_full_{ds}"]
    for name in exps:
        for arch, rec_name in cfg["experiments"][name]["archs"].items():
            kind = DEPTH_ARCHS.get(arch) or ("mlp" if arch.startswith("mlp") else "vgg16")
            lr, momentum, phases = TABLE1[(ds, kind)]
            r = recipe(cfg, name, arch)
            assert r["optimizer"] == {"lr": lr, "momentum": momentum, "weight_decay": 0.0, "nesterov": False}
            assert (r["schedule"]["kind"], r["schedule"]["phases"], r["schedule"]["factor"]) == ("phases", phases, 0.2)
            assert r["batch_size"] == 256 and not r["full_batch"]
            assert r["augment"] == {"crop_padding": 0, "flip": False}
            assert r["loss"] == "cross_entropy"
            assert r["eval"]["count"] == 100 and r["eval"]["at_start"] is True
            assert total_steps(r, 45000, 256) == sum(phases)
            # FMNIST: conv nets zero-pad 28 -> 32, the MLP takes the 784 raw pixels
            assert r.get("pad_to") == (32 if ds == "fmnist" and kind != "mlp" else None), (name, arch)


def test_depth_fmnist_mlp_recipe_is_table1(cfg):
    r = cfg["recipes"][cfg["experiments"]["depth_split_fmnist"]["archs"]["mlp7"]]
    assert r["optimizer"]["lr"] == 0.04 and r["optimizer"]["momentum"] == 0.5
    assert r["schedule"]["phases"] == [10000, 2500]


def test_depth_noise40(cfg):
    ds = cfg["datasets"]["cifar10_noise40"]
    assert ds == {"derive": "label_noise", "parent": "cifar10", "fraction": 0.4, "mode": "other_class",
                  "split": "train", "seed": 0}
    exp = cfg["experiments"]["depth_noise40_cifar10"]
    assert exp["dataset"] == "cifar10_noise40" and exp["design"]["seeds"] == 5
    assert "vgg16_nobn" in exp["archs"]
    depths = sorted(cfg["archs"][a]["depth"] for a in exp["archs"] if cfg["archs"][a]["family"] == "mlp")
    assert depths == [7, 15]                                                    # Fig A.9


def test_depth_hinge_table3(cfg):
    want = {  # name -> (loss, full batch, lr, momentum, phases)   spec 002 §4.5
        "depth_hinge_ce_sgd": ("cross_entropy", False, 4e-3, 0.9, [3200]),
        "depth_hinge_ce_gd": ("cross_entropy", True, 6.4e-6, 0.9, [1200000]),
        "depth_hinge_zh_sgd": ("zero_hinge", False, 4e-2, 0.9, [5000, 2500]),
        "depth_hinge_zh_gd": ("zero_hinge", True, 6.4e-5, 0.95, [800000]),
    }
    for name, (loss, full_batch, lr, momentum, phases) in want.items():
        exp = cfg["experiments"][name]
        assert exp["design"] == {"kind": "random_subset", "size": 4096, "seeds": 5, "stratified": False}
        assert list(exp["archs"]) == ["vgg16_nobn"]
        r = recipe(cfg, name, "vgg16_nobn")
        assert (r["loss"], r["full_batch"]) == (loss, full_batch)
        assert r["optimizer"]["lr"] == lr and r["optimizer"]["momentum"] == momentum
        assert r["optimizer"]["weight_decay"] == 0.0
        assert (r["schedule"]["kind"], r["schedule"]["phases"], r["schedule"]["factor"]) == ("phases", phases, 0.2)
        if not full_batch:
            assert r["batch_size"] == 256


# ----------------------------------------------------------------------------- paper 003

def test_scores_run_counts(cfg):
    base = cfg["experiments"]["scores_cifar10"]
    assert base["design"] == {"kind": "full", "seeds": 40, "stratified": False}
    assert set(base["archs"]) == {"cifar_resnet_20", "cifar_vgg_16"}
    variants = cfg["experiments"]["scores_variants_cifar10"]
    assert variants["design"]["seeds"] == 20
    assert set(variants["archs"]) == {"cifar_resnet_20_64", "cifar_resnet_32", "cifar_vgg_16_16", "cifar_vgg_11"}
    assert pwconfig.eval_sets(cfg, "scores_cifar10")["train"] == ("cifar10", "train")


def test_scores_recipe_is_openlth(cfg):
    for name in ("scores_cifar10", "scores_variants_cifar10"):
        for arch in cfg["experiments"][name]["archs"]:
            r = recipe(cfg, name, arch)
            assert r["epochs"] == 160 and r["batch_size"] == 128
            assert r["optimizer"] == {"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-4, "nesterov": False}
            assert r["schedule"]["kind"] == "step" and r["schedule"]["milestones"] == [80, 120]
            assert r["schedule"]["gamma"] == 0.1
            assert r["augment"] == {"crop_padding": 4, "flip": True}
            assert r["eval"]["per_epoch"] == 1 and r["eval"]["at_start"] is False
            assert r["records"] == "eval_forward"
            assert r["arch"]["init"] == "openlth"
            T = total_steps(r, 50000, 128)
            assert len(eval_steps(r, T, 50000 / 128)) == 160                   # epochs 1..160


def test_scores_archs_match_openlth_parameter_counts(cfg):
    """Spec 003 §4 table: exact trainable parameter counts at 3x32x32, 10 classes."""
    from pointwise.models import build_model, count_parameters

    want = {"cifar_resnet_20": 272_474, "cifar_resnet_20_64": 4_327_754, "cifar_resnet_32": 466_906,
            "cifar_vgg_16": 14_728_266, "cifar_vgg_16_16": 924_186, "cifar_vgg_11": 9_231_114}
    for arch, n in want.items():
        assert count_parameters(build_model(cfg["archs"][arch], (3, 32, 32), 10)) == n, arch
    ratio = count_parameters(build_model(cfg["archs"]["cifar_vgg_16"], (3, 32, 32), 10)) / 272_474
    assert math.isclose(ratio, 54.05, abs_tol=0.01)                           # Fig 6 right x-axis


def test_scores_keep_epoch20_snapshots_and_ret_keeps_the_head(cfg):
    r = recipe(cfg, "scores_cifar10", "cifar_resnet_20")
    assert r["snapshots"] == {"epochs": [10, 20]}
    assert recipe(cfg, "scores_ret_ft_s0", "cifar_resnet_20")["init_from"]["head"] == "keep"
    assert recipe(cfg, "depth_hinge_untrained", "vgg16_nobn")["steps"] == 0
