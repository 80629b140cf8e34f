"""The Snakemake DAG end to end at the tiny test scale (synthetic data, CPU)."""
import json
import os
import shutil
import subprocess
import sys

import h5py
import pytest

from pointwise.io import read_csv, read_csv_provenance

from conftest import ROOT

pytestmark = pytest.mark.workflow


def snakemake(*args, cwd, timeout=1800):
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
           "--directory", str(cwd), "--cores", "2", *args]
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return out


@pytest.fixture(scope="module")
def test_run(tmp_path_factory):
    """The whole test-scale DAG, run once for this module."""
    wd = tmp_path_factory.mktemp("wf")
    shutil.copy(ROOT / "configs" / "test.yaml", wd / "test.yaml")
    out = snakemake("--configfile", "test.yaml", cwd=wd)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return wd


def test_every_target_is_built(test_run):
    res = test_run / "results" / "test"
    for name in ("synth", "synth_pool", "synth_noise", "synth_source", "synth_c/gaussian_noise-2"):
        assert (res / "data" / f"{name}.h5").exists(), name
    for exp, arch, seeds, ens in (("split", "mlp", 4, 2), ("split", "cnn", 4, 2), ("noisy", "mlp", 2, 2),
                                  ("pretrain", "cnn", 1, 1), ("finetune", "cnn", 2, 2)):
        for s in range(seeds):
            d = res / "runs" / exp / arch / f"block{s // ens}" / f"member{s % ens}"
            for f in ("model.pt", "logits.h5", "train_stats.h5"):
                assert (d / f).exists(), d / f
    summary = read_csv(res / "tables" / "runs" / "split.csv")
    assert set(summary["eval_set"]) == {"train", "test", "noise2"}
    assert len(summary) == 2 * 4 * 3
    assert summary["accuracy"].between(0, 1).all()
    curves = read_csv(res / "tables" / "runs" / "split_curves.csv")
    assert len(curves) == 2 * 4 * 3 * curves["step"].nunique()
    last = curves[curves["step"] == curves["step"].max()].sort_values(["arch", "seed_index", "eval_set"])
    assert list(last["accuracy"]) == list(summary.sort_values(["arch", "seed_index", "eval_set"])["accuracy"])
    for ext in ("pdf", "png"):
        assert (res / "figures" / "runs" / f"split_curves.{ext}").stat().st_size > 1000
    assert (res / "logs" / "train" / "split" / "mlp" / "block0.log").exists()
    assert (res / "benchmarks" / "train" / "split" / "mlp" / "block0.tsv").exists()


def test_outputs_carry_provenance(test_run):
    res = test_run / "results" / "test"
    with h5py.File(res / "runs" / "split" / "mlp" / "block1" / "member0" / "logits.h5") as f:
        a = f.attrs
        for key in ("code_version", "config_hash", "seed", "inputs_sha256", "package_versions"):
            assert key in a, key
        assert int(a["seed_index"]) == 2
        assert any(k.endswith("designs/split.h5") for k in json.loads(a["inputs_sha256"]))
    with h5py.File(res / "data" / "synth_noise.h5") as f:
        assert "config_hash" in f.attrs and "inputs_sha256" in f.attrs
    prov = read_csv_provenance(res / "tables" / "runs" / "split.csv")
    assert prov["code_version"] and len(prov["inputs_sha256"]) == 8


def test_one_target_regenerates_alone(test_run):
    res = test_run / "results" / "test"
    target = res / "tables" / "runs" / "noisy.csv"
    ckpt = res / "runs" / "noisy" / "mlp" / "block0" / "member0" / "model.pt"
    before = ckpt.stat().st_mtime_ns
    target.unlink()
    out = snakemake(str(target.relative_to(test_run)), "--configfile", "test.yaml", cwd=test_run)
    assert out.returncode == 0, out.stderr[-3000:]
    assert target.exists()
    assert ckpt.stat().st_mtime_ns == before
    assert "run_summary" in out.stdout + out.stderr
    assert "train_noisy" not in out.stdout + out.stderr


def test_report_holds_every_figure(test_run):
    out = snakemake("--configfile", "test.yaml", "--report", "report.html", cwd=test_run)
    assert out.returncode == 0, out.stderr[-3000:]
    html = (test_run / "report.html").read_text(errors="ignore")
    assert "Training runs" in html
    for exp in ("split", "noisy", "pretrain", "finetune"):
        assert f"{exp}_curves.pdf" in html
    # one section per paper opening with its claims page, and the atlas
    for paper, category in (("profiles", "Paper 000"), ("robustness", "Paper 001"), ("depth", "Paper 002"),
                            ("scores", "Paper 003")):
        assert category in html and f"{paper}.html" in html
    assert "Atlas" in html and "spearman.pdf" in html and "taxonomy.pdf" in html


def test_config_hash_matches_the_documented_recipe(test_run):
    import pointwise.config as pwconfig
    from pointwise.provenance import config_hash
    with h5py.File(test_run / "results" / "test" / "runs" / "noisy" / "mlp" / "block0" / "member0" / "logits.h5") as f:
        assert f.attrs["config_hash"] == config_hash(pwconfig.load(test_run / "test.yaml"))


def test_finetune_starts_from_the_pretrained_run(test_run):
    import torch
    res = test_run / "results" / "test" / "runs"
    pre = torch.load(res / "pretrain" / "cnn" / "block0" / "member0" / "model.pt", weights_only=False)
    ft = torch.load(res / "finetune" / "cnn" / "block0" / "member0" / "model.pt", weights_only=False)
    assert torch.equal(pre["state_dict"]["convs.0.weight"], ft["state_dict"]["convs.0.weight"])  # frozen backbone
    assert not torch.equal(pre["state_dict"]["head.weight"], ft["state_dict"]["head.weight"])


def test_paper_scale_dag_builds():
    """The whole paper-scale DAG resolves (dry run); the README quotes how long it takes."""
    if not (ROOT / "configs" / "paper.yaml").exists():
        pytest.skip("no paper config")
    out = subprocess.run([sys.executable, "-m", "snakemake", "-n", "-q", "--configfile", "configs/paper.yaml"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
