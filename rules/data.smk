# Data: one HDF5 per dataset (sources, synthetic, derived sets), then one design per experiment.


rule dataset:
    """Build data/{dataset}.h5 from its published files, the synthetic generator, or its parent
    (balanced subset, fixed label noise, one rung of a corruption ladder)."""
    input:
        parent=parent_file,
    output:
        DATA + "/{dataset}.h5",
    params:
        spec=lambda wc: DATASETS[wc.dataset],
    resources:
        mem_mb=8000,
        runtime=30,
    log:
        LOGS + "/data/{dataset}.log",
    benchmark:
        BENCH + "/data/{dataset}.tsv"
    conda:
        CPU_ENV
    script:
        "../workflow_scripts/build_dataset.py"


rule design:
    """Which pool examples each seed of an experiment trains on / holds out."""
    input:
        data=lambda wc: data_file(experiment(wc)["dataset"]),
    output:
        DESIGNS + "/{experiment}.h5",
    params:
        spec=experiment,
        base_seed=config.get("seed", 0),
    resources:
        mem_mb=4000,
        runtime=10,
    log:
        LOGS + "/designs/{experiment}.log",
    benchmark:
        BENCH + "/designs/{experiment}.tsv"
    conda:
        CPU_ENV
    script:
        "../workflow_scripts/build_design.py"
