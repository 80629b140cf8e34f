"""Config validation: a wrong key, type or reference fails at parse time, naming it."""
import copy
import subprocess
import sys

import pytest
import yaml

import pointwise.config as pwconfig
from pointwise.config import ConfigError

from conftest import ROOT


@pytest.fixture
def test_config():
    return yaml.safe_load(open(ROOT / "configs" / "test.yaml"))


@pytest.mark.parametrize("name", ["config.yaml", "configs/test.yaml"])
def test_shipped_configs_validate(name):
    cfg = pwconfig.load(ROOT / name)
    assert cfg["experiments"]


def test_defaults_are_filled(test_config):
    cfg = pwconfig.validate(test_config)
    assert cfg["checkpoint_minutes"] == 5
    assert cfg["experiments"]["split"]["mem_mb"] == 8000
    r = pwconfig.recipe(cfg, "split", "mlp")
    assert r["optimizer"]["momentum"] == 0.9 and r["loss"] == "cross_entropy"
    assert r["arch"]["family"] == "mlp" and r["eval_sets"]["noise2"] == ["synth_c/gaussian_noise-2", "test"]


def bad(cfg, mutate):
    cfg = copy.deepcopy(cfg)
    mutate(cfg)
    with pytest.raises(ConfigError) as e:
        pwconfig.validate(cfg)
    return str(e.value)


def test_unknown_key_is_named(test_config):
    msg = bad(test_config, lambda c: c["recipes"]["quick"].update(optimiser={"lr": 1}))
    assert "recipes.quick" in msg and "optimiser" in msg


def test_wrong_type_is_named(test_config):
    msg = bad(test_config, lambda c: c["recipes"]["quick"].update(batch_size="big"))
    assert "recipes.quick.batch_size" in msg


def test_unknown_top_level_key(test_config):
    assert "seeed" in bad(test_config, lambda c: c.update(seeed=1))


def test_bad_dataset_spec_names_the_field(test_config):
    msg = bad(test_config, lambda c: c["datasets"]["synth_noise"].update(fraction=1.5))
    assert "datasets.synth_noise" in msg


def test_unknown_references(test_config):
    assert "experiments.split.archs.vgg" in bad(test_config, lambda c: c["experiments"]["split"]["archs"].update(vgg="quick"))
    assert "unknown recipe 'slow'" in bad(test_config, lambda c: c["experiments"]["split"]["archs"].update(mlp="slow"))
    assert "experiments.split.dataset" in bad(test_config, lambda c: c["experiments"]["split"].update(dataset="cifar"))
    assert "datasets.synth_noise.parent" in bad(test_config, lambda c: c["datasets"]["synth_noise"].update(parent="x"))
    assert "eval_sets.noise2" in bad(test_config, lambda c: c["experiments"]["split"]["eval_sets"].update(noise2="synth_c/blur-9:test"))
    assert "init_from" in bad(test_config, lambda c: c["recipes"]["finetune"]["init_from"].update(experiment="nope"))


def test_unknown_arch_key(test_config):
    assert "archs.mlp.widht" in bad(test_config, lambda c: c["archs"]["mlp"].update(widht=3))


def test_ensemble_must_divide_seeds(test_config):
    msg = bad(test_config, lambda c: c["experiments"]["noisy"].update(ensemble=3))
    assert "experiments.noisy.ensemble" in msg and "divide" in msg


def test_design_requirements(test_config):
    assert "design.size" in bad(test_config, lambda c: c["experiments"]["finetune"]["design"].pop("size"))
    assert "design.seeds" in bad(test_config, lambda c: c["experiments"]["noisy"]["design"].pop("seeds"))


def test_ladder_expansion(test_config):
    cfg = pwconfig.validate(test_config)
    names = pwconfig.datasets(cfg)
    assert pwconfig.ladder(cfg, "synth_c") == ["synth_c/gaussian_noise-2", "synth_c/rotation-2"]
    assert names["synth_c/rotation-2"] == {"derive": "corruption", "parent": "synth_pool", "split": "test",
                                           "corruption": "rotation", "severity": 2, "seed": 0}
    assert pwconfig.n_blocks(cfg, "split") == 2


def test_snakemake_rejects_a_bad_config_at_parse_time(tmp_path, test_config):
    cfg = copy.deepcopy(test_config)
    cfg["recipes"]["quick"]["epochz"] = 3
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--configfile", str(path),
                          "--directory", str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, stdin=subprocess.DEVNULL)
    assert out.returncode != 0
    assert "epochz" in out.stdout + out.stderr
