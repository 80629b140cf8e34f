# Paths, config views and input functions shared by every rule file.

import os
import sys

# Workflow scripts import the library of this checkout (the code version provenance records),
# locally and in cluster jobs, which inherit the environment.
sys.path.insert(0, workflow.basedir)
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (workflow.basedir, os.environ.get("PYTHONPATH")) if p)

import pointwise.config as pwconfig

pwconfig.check(config)

RESULTS = config["results"]
DATA = f"{RESULTS}/data"
DESIGNS = f"{RESULTS}/designs"
RUNS = f"{RESULTS}/runs"
TABLES = f"{RESULTS}/tables"
CLAIMS = f"{RESULTS}/claims"
FIGURES = f"{RESULTS}/figures"
LOGS = f"{RESULTS}/logs"
BENCH = f"{RESULTS}/benchmarks"
DATASETS = pwconfig.datasets(config)
# Conda environments for --software-deployment-method conda (docs/cluster.md).
CPU_ENV = "../envs/cpu.yaml"
GPU_ENV = "../envs/cuda.yaml"


wildcard_constraints:
    dataset="[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)?",
    experiment="[A-Za-z0-9_.-]+",
    arch="[A-Za-z0-9_.-]+",
    block=r"\d+",


def data_file(name):
    return f"{DATA}/{name}.h5"


def parent_file(wildcards):
    spec = DATASETS[wildcards.dataset]
    return [data_file(spec["parent"])] if "derive" in spec else []


def experiment(wildcards):
    return config["experiments"][wildcards.experiment]


def ensemble(exp):
    return pwconfig.ensemble_size(config, exp)


def block_members(exp, block):
    """Seed indices trained together in block ``block`` of ``exp``."""
    e = ensemble(exp)
    return list(range(int(block) * e, (int(block) + 1) * e))


def run_dir(exp, arch, seed):
    """Directory of seed ``seed`` of ``exp``/``arch``: seed s is member s % E of block s // E."""
    e = ensemble(exp)
    return f"{RUNS}/{exp}/{arch}/block{seed // e}/member{seed % e}"


def member_outputs(exp, name):
    """Output pattern of ``name`` for every member of a block of ``exp`` ({arch}, {block} stay wildcards)."""
    return expand(RUNS + "/" + exp + "/{{arch}}/block{{block}}/member{m}/" + name, m=range(ensemble(exp)))


def run_files(exp, arch, name):
    """``name`` (model.pt, logits.h5, train_stats.h5) of every seed of exp/arch, in seed order."""
    return [f"{run_dir(exp, arch, s)}/{name}" for s in range(pwconfig.n_seeds(config, exp))]


def train_inputs(exp):
    """Input function of ``train_<exp>``: data, design, eval-set files and, when the recipe starts
    from a pretrained run (init_from), that run's checkpoint."""

    def inputs(wildcards):
        spec = config["experiments"][exp]
        files = {"data": data_file(spec["dataset"]), "design": f"{DESIGNS}/{exp}.h5"}
        for name, (ds, _split) in pwconfig.eval_sets(config, exp).items():
            files[f"eval_{name}"] = data_file(ds)
        init = pwconfig.recipe(config, exp, wildcards.arch).get("init_from")
        if init and "experiment" in init:   # (init_from.weights: a file the job reads, see docs/training.md)
            files["init"] = f"{run_dir(init['experiment'], init['arch'], init['seed'])}/model.pt"
        return files

    return inputs


def train_gpu_model(exp):
    """The GPU model a training job of ``exp`` asks for (None: any; dropped for CPU jobs)."""
    if not train_gpus(exp):
        return None
    return config["experiments"][exp].get("gpu_model", config.get("gpu_model"))


def train_gpus(exp):
    """GPUs a training job of ``exp`` asks the scheduler for (0 when the config pins the CPU)."""
    return 1 if config["experiments"][exp].get("gpu", True) and config.get("device", "auto") != "cpu" else 0


# Each paper's rule file appends its final targets (figures, tables, claims) here.
PAPER_TARGETS = []


def all_targets():
    return [f"{FIGURES}/runs/{exp}_curves.pdf" for exp in config["experiments"]] + PAPER_TARGETS
