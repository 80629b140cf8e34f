# Paper 002 (Baldock et al. 2021), "Deep Learning Through the Lens of Example Difficulty":
# k-NN probes of every trained run at every layer, prediction depth and the per-run / per-example
# tables, the figures and the claims. `papers.depth` in the config names the experiments and the
# analysis settings (pointwise.depth.pipeline.settings fills the defaults); docs/papers/depth.md.

import pointwise.depth.pipeline as pwdepth

DP = pwdepth.settings(config)

if DP:
    DPT = f"{TABLES}/depth"
    DPF = f"{FIGURES}/depth"
    DP_PROBES = f"{RESULTS}/probes"
    DP_CATEGORY = "Paper 002 — prediction depth"
    DP_MODELS = pwdepth.models(config, DP)
    DP_MODEL_FIGS = ["fig1_right", "fig3", "fig4_left", "fig6_margins", "fig7", "fig8"]
    DP_AGG = ["per_example", "by_depth", "groups", "group_layer_curves", "improvement", "inference_curve"]

    def dp_run_tables(exp, arch):
        return [f"{DPT}/{exp}/{arch}/runs/seed{s}.csv" for s in range(pwconfig.n_seeds(config, exp))]

    def dp_knn_files(exp, arch):
        return [f"{DP_PROBES}/{exp}/{arch}/seed{s}/knn.h5" for s in range(pwconfig.n_seeds(config, exp))]

    def dp_fig_inputs(wildcards):
        base = f"{DPT}/{wildcards.experiment}/{wildcards.arch}"
        names = {"fig1_right": ["by_depth"], "fig3": ["per_example"], "fig4_left": ["per_example"],
                 "fig6_margins": ["per_example"], "fig7": ["per_example", "groups"],
                 "fig8": ["group_layer_curves"], "fig5_right": ["inference_curve"]}[wildcards.figure]
        return {n: f"{base}/{n}.csv" for n in names}

    rule depth_probes:
        """k-NN probes (k = papers.depth.k) of one run at every probe point, input to softmax:
        neighbour labels and k-NN predictions of its training, held-out and test examples."""
        input:
            ckpt=lambda wc: f"{run_dir(wc.experiment, wc.arch, int(wc.seed))}/model.pt",
            data=lambda wc: data_file(config["experiments"][wc.experiment]["dataset"]),
            design=DESIGNS + "/{experiment}.h5",
        output:
            DP_PROBES + "/{experiment}/{arch}/seed{seed}/knn.h5",
        params:
            k=DP["k"],
            tie=DP["tie"],
        threads: config.get("threads", 2)
        resources:
            gpu=lambda wc: train_gpus(wc.experiment),
            mem_mb=lambda wc, attempt: DP["probe_mem_mb"] * attempt,
            runtime=lambda wc, attempt: DP["probe_runtime_minutes"] * attempt,
        log:
            LOGS + "/depth/probes/{experiment}/{arch}/seed{seed}.log",
        benchmark:
            BENCH + "/depth/probes/{experiment}/{arch}/seed{seed}.tsv"
        script:
            "../workflow_scripts/depth_probes.py"

    rule depth_run_table:
        """Per-run table: PD (NaN = undefined), k-NN predictions per layer, network prediction,
        iteration learned (raw and rescaled at the q95), output margin; one row per query."""
        input:
            knn=DP_PROBES + "/{experiment}/{arch}/seed{seed}/knn.h5",
            logits=lambda wc: f"{run_dir(wc.experiment, wc.arch, int(wc.seed))}/logits.h5",
        output:
            DPT + "/{experiment}/{arch}/runs/seed{seed}.csv",
        params:
            settings=DP,
        resources:
            mem_mb=2000,
            runtime=10,
        log:
            LOGS + "/depth/runs/{experiment}/{arch}/seed{seed}.log",
        benchmark:
            BENCH + "/depth/runs/{experiment}/{arch}/seed{seed}.tsv"
        script:
            "../workflow_scripts/depth_run_table.py"

    rule depth_aggregate:
        """Per-example aggregates (mPD train/val, consistency, consensus, C*, entropy, IL, margins,
        corner distances), quantities by depth, the corner groups, their k-NN curves by layer
        (Fig 8), the improvement experiment and the inference curve of one (experiment, arch)."""
        input:
            runs=lambda wc: dp_run_tables(wc.experiment, wc.arch),
            knn=lambda wc: dp_knn_files(wc.experiment, wc.arch),
        output:
            **{n: f"{DPT}/{{experiment}}/{{arch}}/{n}.csv" for n in DP_AGG},
        params:
            settings=DP,
        resources:
            mem_mb=4000,
            runtime=10,
        log:
            LOGS + "/depth/aggregate/{experiment}/{arch}.log",
        benchmark:
            BENCH + "/depth/aggregate/{experiment}/{arch}.tsv"
        script:
            "../workflow_scripts/depth_aggregate.py"

    rule depth_correlation:
        """Fig 2 table: split-half Spearman of mPD per arch and Spearman between archs."""
        input:
            lambda wc: [f for a in pwdepth.archs_of(config, DP, wc.experiment)
                        for f in dp_run_tables(wc.experiment, a)],
        output:
            DPT + "/{experiment}/correlation.csv",
        params:
            archs=lambda wc: {a: dp_run_tables(wc.experiment, a) for a in pwdepth.archs_of(config, DP, wc.experiment)},
            settings=DP,
        resources:
            mem_mb=2000,
            runtime=10,
        log:
            LOGS + "/depth/correlation/{experiment}.log",
        benchmark:
            BENCH + "/depth/correlation/{experiment}.tsv"
        script:
            "../workflow_scripts/depth_correlation.py"

    rule depth_accuracy_table:
        """Table 2: the network's final accuracy per model and split (mean, sd over runs)."""
        input:
            [f for e, a in DP_MODELS for f in dp_run_tables(e, a)],
        output:
            DPT + "/table2_accuracy.csv",
        params:
            runs={f"{e}/{a}": dp_run_tables(e, a) for e, a in DP_MODELS},
        resources:
            mem_mb=2000,
            runtime=10,
        log:
            LOGS + "/depth/table2_accuracy.log",
        benchmark:
            BENCH + "/depth/table2_accuracy.tsv"
        script:
            "../workflow_scripts/depth_accuracy_table.py"

    rule depth_model_figure:
        """One figure of one (experiment, arch) from its tables."""
        input:
            unpack(dp_fig_inputs),
        output:
            pdf=report(DPF + "/{experiment}/{arch}/{figure}.pdf", category=DP_CATEGORY,
                       subcategory="{experiment} / {arch}", caption="../report/captions/depth.rst"),
            png=DPF + "/{experiment}/{arch}/{figure}.png",
        wildcard_constraints:
            figure="|".join(DP_MODEL_FIGS + ["fig5_right"]),
        params:
            bins=DP["bins"],
        resources:
            mem_mb=2000,
            runtime=10,
        log:
            LOGS + "/depth/figures/{experiment}/{arch}/{figure}.log",
        benchmark:
            BENCH + "/depth/figures/{experiment}/{arch}/{figure}.tsv"
        script:
            "../workflow_scripts/depth_figure.py"

    rule depth_experiment_figure:
        """Figures with one line or cell per architecture of an experiment (Figs 2, 4 right, 5 left)."""
        input:
            lambda wc: ([f"{DPT}/{wc.experiment}/correlation.csv"] if wc.figure == "fig2" else
                        [f"{DPT}/{wc.experiment}/{a}/by_depth.csv" for a in pwdepth.archs_of(config, DP, wc.experiment)]),
        output:
            pdf=report(DPF + "/{experiment}/{figure}.pdf", category=DP_CATEGORY,
                       subcategory="{experiment}", caption="../report/captions/depth.rst"),
            png=DPF + "/{experiment}/{figure}.png",
        wildcard_constraints:
            figure="fig2|fig4_right|fig5_left",
        params:
            names=lambda wc: (["correlation"] if wc.figure == "fig2" else
                             [f"by_depth::{a}" for a in pwdepth.archs_of(config, DP, wc.experiment)]),
            bins=DP["bins"],
        resources:
            mem_mb=2000,
            runtime=10,
        log:
            LOGS + "/depth/figures/{experiment}/{figure}.log",
        benchmark:
            BENCH + "/depth/figures/{experiment}/{figure}.tsv"
        script:
            "../workflow_scripts/depth_figure.py"

    rule depth_claims:
        """claims/depth.csv: the spec 002 §6.2 claims measured on the tables."""
        input:
            lambda wc: ([f"{DPT}/{e}/{a}/{n}.csv" for e, a in DP_MODELS for n in DP_AGG]
                        + [f"{DPT}/{DP['experiments'][0]}/correlation.csv"]),
        output:
            CLAIMS + "/depth.csv",
        params:
            names=[f"{e}/{a}/{n}" for e, a in DP_MODELS for n in DP_AGG] + ["correlation"],
            settings=DP,
        resources:
            mem_mb=2000,
            runtime=10,
        log:
            LOGS + "/depth/claims.log",
        benchmark:
            BENCH + "/depth/claims.tsv"
        script:
            "../workflow_scripts/depth_claims.py"

    PAPER_TARGETS += [CLAIMS + "/depth.csv", DPT + "/table2_accuracy.csv"]
    PAPER_TARGETS += [f"{DPF}/{e}/{a}/{f}.{x}" for e, a in DP_MODELS for f in DP_MODEL_FIGS
                      for x in ("pdf", "png")]
    PAPER_TARGETS += [f"{DPF}/{e}/{f}.{x}" for e in DP["experiments"]
                      for f in ("fig2", "fig4_right", "fig5_left") for x in ("pdf", "png")]
    if DP["noise"]:
        PAPER_TARGETS += [f"{DPF}/{DP['noise']['experiment']}/{DP['noise']['arch']}/fig5_right.{x}"
                          for x in ("pdf", "png")]
