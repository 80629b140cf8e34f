# Training: the seeds of an experiment train in blocks of E (the experiment's ensemble size) as one
# vectorised ensemble; seed s is member s % E of block s // E and gets its own files. Output paths
# must follow from wildcards, so each experiment has its own rule (its E fixes the member count).


def train_inputs_with_replay(exp):
    """train_inputs plus the replayed source dataset of a recipe with `replay` (paper 001 C.11)."""
    base = train_inputs(exp)

    def inputs(wildcards):
        files = base(wildcards)
        rep = pwconfig.recipe(config, exp, wildcards.arch).get("replay")
        if rep:
            files["replay"] = data_file(rep["dataset"])
        return files

    return inputs


for _exp in config["experiments"]:

    rule:
        name:
            f"train_{_exp}"
        """Train one block of seeds: per seed model.pt, logits.h5 (fp16 logits of every eval set at
        every eval point), train_stats.h5 (loss/correct/margin at every presentation) and
        snapshots.pt (the checkpoints the recipe's `snapshots` asks for; empty otherwise)."""
        input:
            unpack(train_inputs_with_replay(_exp)),
        output:
            ckpt=member_outputs(_exp, "model.pt"),
            logits=member_outputs(_exp, "logits.h5"),
            stats=member_outputs(_exp, "train_stats.h5"),
            snapshots=member_outputs(_exp, "snapshots.pt"),
        params:
            experiment=_exp,
            recipe=lambda wc, exp=_exp: pwconfig.recipe(config, exp, wc.arch),
            members=lambda wc, exp=_exp: block_members(exp, wc.block),
            state_dir=lambda wc, exp=_exp: f"{RUNS}/{exp}/{wc.arch}/block{wc.block}/.state",
        threads: config.get("threads", 1)
        resources:
            gpu=lambda wc, exp=_exp: train_gpus(exp),
            gpu_model=lambda wc, exp=_exp: train_gpu_model(exp),
            cpus_per_gpu=lambda wc, exp=_exp: 4 if train_gpus(exp) else 0,
            mem_mb=lambda wc, attempt, exp=_exp: config["experiments"][exp]["mem_mb"] * attempt,
            runtime=lambda wc, attempt, exp=_exp: config["experiments"][exp]["runtime_minutes"] * attempt,
        log:
            f"{LOGS}/train/{_exp}/{{arch}}/block{{block}}.log",
        benchmark:
            f"{BENCH}/train/{_exp}/{{arch}}/block{{block}}.tsv"
        conda:
            GPU_ENV
        script:
            "../workflow_scripts/train_block.py"


rule run_summary:
    """Final accuracy of every seed of an experiment on each eval set, and its learning curves."""
    input:
        logits=lambda wc: [f for arch in config["experiments"][wc.experiment]["archs"]
                           for f in run_files(wc.experiment, arch, "logits.h5")],
    output:
        summary=TABLES + "/runs/{experiment}.csv",
        curves=TABLES + "/runs/{experiment}_curves.csv",
    resources:
        mem_mb=4000,
        runtime=10,
    log:
        LOGS + "/tables/runs/{experiment}.log",
    benchmark:
        BENCH + "/tables/runs/{experiment}.tsv"
    conda:
        CPU_ENV
    script:
        "../workflow_scripts/run_summary.py"


rule figure_learning_curves:
    """Learning curves of an experiment (from its curves table, never from raw logits)."""
    input:
        TABLES + "/runs/{experiment}_curves.csv",
    output:
        pdf=report(FIGURES + "/runs/{experiment}_curves.pdf", category="Training runs",
                   subcategory="{experiment}", caption="../report/captions/learning_curves.rst"),
        png=FIGURES + "/runs/{experiment}_curves.png",
    resources:
        mem_mb=2000,
        runtime=10,
    log:
        LOGS + "/figures/runs/{experiment}_curves.log",
    benchmark:
        BENCH + "/figures/runs/{experiment}_curves.tsv"
    conda:
        CPU_ENV
    script:
        "../workflow_scripts/figure_learning_curves.py"
