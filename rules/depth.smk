# Paper 002 (Baldock et al. 2021), "Deep Learning Through the Lens of Example Difficulty":
# k-NN probes of every trained run at every layer, prediction depth and the per-run / per-example
# tables, the figures and the claims. `papers.depth` in the config names the experiments and the
# analysis settings (pointwise.depth.pipeline.settings fills the defaults); docs/papers/depth.md.

import re

import pointwise.depth.pipeline as pwdepth

DP = pwdepth.settings(config)

if DP:
    DPT = f"{TABLES}/depth"
    DPF = f"{FIGURES}/depth"
    DP_PROBES = f"{RESULTS}/probes"
    DP_CATEGORY = "Paper 002 — prediction depth"
    DP_MODELS = pwdepth.models(config, DP)
    DP_FULL_MODELS = pwdepth.full_models(config, DP)    # (FULL experiment, arch): papers.depth.full
    DP_FULL_EXPS = list(dict.fromkeys(e for e, _ in DP_FULL_MODELS))
    DP_FULL_FIGS = ["fig6_margins", "fig6_middle", "figC28_margins"]
    DP_FULL_EXP_FIGS = ["fig4_middle", "figC21"]
    DP_MODEL_FIGS = ["fig1_left", "fig1_right", "fig3", "fig4_left", "fig6_margins", "fig6_middle", "fig7",
                     "fig7_images", "fig8", "figC22_entropy", "figC24_iteration_learned"]
    DP_AGG = ["per_example", "by_depth", "groups", "group_layer_curves", "improvement", "inference_curve",
              "loo_by_depth"]
    DP_KS = pwdepth.k_sensitivity_model(config, DP)     # (experiment, arch, seeds, k_max) or None
    DP_KS_TABLES = ["k_sensitivity_accuracy", "k_sensitivity_ranking"]
    DP_CLAIM_KS = [f"{DP_KS[0]}/{DP_KS[1]}/k_sensitivity_ranking"] if DP_KS else []

    def dp_run_tables(exp, arch):
        return [f"{DPT}/{exp}/{arch}/runs/seed{s}.csv" for s in range(pwconfig.n_seeds(config, exp))]

    def dp_knn_files(exp, arch):
        return [f"{DP_PROBES}/{exp}/{arch}/seed{s}/knn.h5" for s in range(pwconfig.n_seeds(config, exp))]

    DP_EXP_FIGS = ["fig2", "fig2_right", "fig4_middle", "fig4_right", "fig5_left", "figC21"]

    def dp_exp_fig_inputs(wc):
        """{name: table} of an experiment figure: "<table>::<arch>" for the per-arch tables."""
        if wc.figure == "fig2":
            return {"correlation": f"{DPT}/{wc.experiment}/correlation.csv"}
        names = {"fig2_right": ["per_example", "by_depth"], "fig4_middle": ["loo_by_depth"],
                 "figC21": ["loo_by_depth"]}.get(wc.figure, ["by_depth"])
        return {f"{n}::{a}": f"{DPT}/{wc.experiment}/{a}/{n}.csv"
                for a in pwdepth.archs_of(config, DP, wc.experiment) for n in names}

    def dp_fig_inputs(wildcards):
        base = f"{DPT}/{wildcards.experiment}/{wildcards.arch}"
        names = {"fig1_left": ["example_images"], "fig7_images": ["example_images"],
                 "figC22_entropy": ["per_example"], "figC24_iteration_learned": ["per_example"],
                 "fig1_right": ["by_depth"], "fig3": ["per_example"], "fig4_left": ["per_example"],
                 "fig6_margins": ["per_example"], "fig6_middle": ["per_example"],
                 "fig7": ["per_example", "groups"], "fig8": ["group_layer_curves"],
                 "figC28_margins": ["per_example"],
                 "fig5_right": ["inference_curve"], "fig5_middle": ["learning_curve"],
                 "figA10_k_sensitivity": DP_KS_TABLES}[wildcards.figure]
        return {n: f"{base}/{n}.csv" for n in names}

    # Probes and per-run tables: one job per run (papers.depth.probe_block = 1), else one job per
    # block of probe_block runs (rules generated below: a job's start-up costs more CPU than the
    # probes of a small default-scale run).
    DP_BLOCK = int(DP["probe_block"])
    DP_MD = DP["mlp_depth"]        # Fig A.9: MLPs probed after every operation (or None)
    DP_LR = DP["lr_probes"]        # Fig E.48: k-NN vs logistic-regression probes of one run (or None)
    DP_EXPS = list(dict.fromkeys([e for e, _ in DP_MODELS] + DP_FULL_EXPS
                                 + ([DP_MD["experiment"]] if DP_MD else [])))

    def dp_input_margin(exp, arch):
        """Input-margin splits of a probed run (FULL runs where configured, else SPLIT runs)."""
        return pwdepth.input_margin_splits(config, DP, exp, arch)
    DP_PER_SEED = "|".join(re.escape(e) for e in DP_EXPS) if DP_BLOCK == 1 else "(?!)"

    def dp_blocks(exp):
        n = pwconfig.n_seeds(config, exp)
        return [list(range(b, min(b + DP_BLOCK, n))) for b in range(0, n, DP_BLOCK)]

    rule depth_probes:
        """k-NN probes (k = papers.depth.k) of one run at every probe point, input to softmax:
        neighbour labels and k-NN predictions of its training, held-out and test examples, and
        the input margin of the papers.depth.input_margin splits."""
        input:
            ckpt=lambda wc: f"{run_dir(wc.experiment, wc.arch, int(wc.seed))}/model.pt",
            data=lambda wc: data_file(config["experiments"][wc.experiment]["dataset"]),
            design=DESIGNS + "/{experiment}.h5",
        output:
            DP_PROBES + "/{experiment}/{arch}/seed{seed}/knn.h5",
        wildcard_constraints:
            experiment=DP_PER_SEED,
        params:
            seeds=lambda wc: [int(wc.seed)],
            k=DP["k"],
            tie=DP["tie"],
            input_margin=lambda wc: dp_input_margin(wc.experiment, wc.arch),
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

    for _exp in DP_EXPS if DP_BLOCK > 1 else []:
        for _b, _seeds in enumerate(dp_blocks(_exp)):

            rule:
                name:
                    f"depth_probes_{_exp}_block{_b}"
                """The k-NN probes of depth_probes for a block of papers.depth.probe_block runs."""
                input:
                    ckpt=lambda wc, e=_exp, ss=_seeds: [f"{run_dir(e, wc.arch, s)}/model.pt" for s in ss],
                    data=data_file(config["experiments"][_exp]["dataset"]),
                    design=f"{DESIGNS}/{_exp}.h5",
                output:
                    [f"{DP_PROBES}/{_exp}/{{arch}}/seed{s}/knn.h5" for s in _seeds],
                params:
                    seeds=_seeds,
                    k=DP["k"],
                    tie=DP["tie"],
                    input_margin=lambda wc, e=_exp: dp_input_margin(e, wc.arch),
                threads: config.get("threads", 2)
                resources:
                    gpu=lambda wc, e=_exp: train_gpus(e),
                    mem_mb=lambda wc, attempt: DP["probe_mem_mb"] * attempt,
                    runtime=lambda wc, attempt, n=len(_seeds): DP["probe_runtime_minutes"] * n * attempt,
                log:
                    f"{LOGS}/depth/probes/{_exp}/{{arch}}/block{_b}.log",
                benchmark:
                    f"{BENCH}/depth/probes/{_exp}/{{arch}}/block{_b}.tsv"
                script:
                    "../workflow_scripts/depth_probes.py"

            rule:
                name:
                    f"depth_run_tables_{_exp}_block{_b}"
                """The per-run tables of depth_run_table for a block of papers.depth.probe_block runs."""
                input:
                    knn=[f"{DP_PROBES}/{_exp}/{{arch}}/seed{s}/knn.h5" for s in _seeds],
                    logits=lambda wc, e=_exp, ss=_seeds: [f"{run_dir(e, wc.arch, s)}/logits.h5" for s in ss],
                output:
                    [f"{DPT}/{_exp}/{{arch}}/runs/seed{s}.csv" for s in _seeds],
                params:
                    settings=DP,
                resources:
                    mem_mb=2000,
                    runtime=lambda wc, n=len(_seeds): 10 * n,
                log:
                    f"{LOGS}/depth/runs/{_exp}/{{arch}}/block{_b}.log",
                benchmark:
                    f"{BENCH}/depth/runs/{_exp}/{{arch}}/block{_b}.tsv"
                script:
                    "../workflow_scripts/depth_run_table.py"

    if DP_KS:

        rule depth_probes_kmax:
            """The k-sensitivity probes (A.4): the papers.depth.k_sensitivity runs probed at the
            largest k, in one job; every smaller k is derived from their distance-sorted neighbour
            labels."""
            input:
                ckpt=[f"{run_dir(DP_KS[0], DP_KS[1], s)}/model.pt" for s in DP_KS[2]],
                data=data_file(config["experiments"][DP_KS[0]]["dataset"]),
                design=f"{DESIGNS}/{DP_KS[0]}.h5",
            output:
                [f"{DP_PROBES}/{DP_KS[0]}/{DP_KS[1]}/seed{s}/knn_k{DP_KS[3]}.h5" for s in DP_KS[2]],
            params:
                seeds=DP_KS[2],
                k=DP_KS[3],
                tie=DP["tie"],
                input_margin=[],
            threads: config.get("threads", 2)
            resources:
                gpu=train_gpus(DP_KS[0]),
                mem_mb=lambda wc, attempt: DP["probe_mem_mb"] * attempt,
                runtime=lambda wc, attempt: DP["probe_runtime_minutes"] * len(DP_KS[2]) * attempt,
            log:
                f"{LOGS}/depth/probes/{DP_KS[0]}/{DP_KS[1]}/k{DP_KS[3]}.log",
            benchmark:
                f"{BENCH}/depth/probes/{DP_KS[0]}/{DP_KS[1]}/k{DP_KS[3]}.tsv"
            script:
                "../workflow_scripts/depth_probes.py"

    rule depth_k_sensitivity:
        """A.4 k sensitivity: k-NN accuracy by layer for each k, and the Spearman of the per-example
        mean PD at each k against k = papers.depth.k (spec §6.2 claim 13)."""
        input:
            lambda wc: [f"{DP_PROBES}/{wc.experiment}/{wc.arch}/seed{s}/knn_k{DP_KS[3]}.h5" for s in DP_KS[2]],
        output:
            **{n: f"{DPT}/{{experiment}}/{{arch}}/{n}.csv" for n in DP_KS_TABLES},
        params:
            settings=DP,
        resources:
            mem_mb=2000,
            runtime=10,
        log:
            LOGS + "/depth/k_sensitivity/{experiment}/{arch}.log",
        benchmark:
            BENCH + "/depth/k_sensitivity/{experiment}/{arch}.tsv"
        script:
            "../workflow_scripts/depth_k_sensitivity.py"

    rule depth_learning_curve:
        """Fig 5 middle table: the network's accuracy at every eval point on the clean and the
        flipped training examples (given and original label), held-out and test examples."""
        input:
            knn=lambda wc: dp_knn_files(wc.experiment, wc.arch),
            logits=lambda wc: [f"{run_dir(wc.experiment, wc.arch, s)}/logits.h5"
                               for s in range(pwconfig.n_seeds(config, wc.experiment))],
        output:
            DPT + "/{experiment}/{arch}/learning_curve.csv",
        resources:
            mem_mb=2000,
            runtime=10,
        log:
            LOGS + "/depth/learning_curve/{experiment}/{arch}.log",
        benchmark:
            BENCH + "/depth/learning_curve/{experiment}/{arch}.tsv"
        script:
            "../workflow_scripts/depth_learning_curve.py"

    rule depth_run_table:
        """Per-run table: PD (NaN = undefined), k-NN predictions per layer, network prediction,
        iteration learned (raw and rescaled at the q95), output margin; one row per query."""
        input:
            knn=DP_PROBES + "/{experiment}/{arch}/seed{seed}/knn.h5",
            logits=lambda wc: f"{run_dir(wc.experiment, wc.arch, int(wc.seed))}/logits.h5",
        output:
            DPT + "/{experiment}/{arch}/runs/seed{seed}.csv",
        wildcard_constraints:
            experiment=DP_PER_SEED,
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
        wildcard_constraints:       # not a FULL experiment (depth_full_aggregate)
            experiment="".join(f"(?!{re.escape(e)}/)" for e in DP_FULL_EXPS) + "[^/]+",
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

    rule depth_example_images:
        """The examples Fig 1 left and Fig 7 show, with their pixels (papers.depth.examples): per
        class the lowest and highest mean training PD, per corner group the closest examples."""
        input:
            per_example=DPT + "/{experiment}/{arch}/per_example.csv",
            by_depth=DPT + "/{experiment}/{arch}/by_depth.csv",
            data=lambda wc: data_file(config["experiments"][wc.experiment]["dataset"]),
        output:
            DPT + "/{experiment}/{arch}/example_images.csv",
        params:
            settings=DP,
        resources:
            mem_mb=4000,
            runtime=10,
        log:
            LOGS + "/depth/example_images/{experiment}/{arch}.log",
        benchmark:
            BENCH + "/depth/example_images/{experiment}/{arch}.tsv"
        script:
            "../workflow_scripts/depth_example_images.py"

    rule depth_full_aggregate:
        """The tables of a FULL model (papers.depth.full): per-example mPD, C*, entropy and margins
        over its training and test occurrences, quantities by depth, and PD in one run against the
        other runs' predictions (Fig 4 middle, C.19, C.21)."""
        input:
            runs=lambda wc: dp_run_tables(wc.experiment, wc.arch),
        output:
            **{n: f"{DPT}/{{experiment}}/{{arch}}/{n}.csv" for n in pwdepth.FULL_TABLES},
        wildcard_constraints:
            experiment="|".join(re.escape(e) for e in DP_FULL_EXPS) or "(?!)",
        resources:
            mem_mb=4000,
            runtime=10,
        log:
            LOGS + "/depth/aggregate/{experiment}/{arch}.log",
        benchmark:
            BENCH + "/depth/aggregate/{experiment}/{arch}.tsv"
        script:
            "../workflow_scripts/depth_full_aggregate.py"

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
        """Table 2: the network's final accuracy per model (SPLIT and FULL) and split (mean, sd
        over runs)."""
        input:
            [f for e, a in DP_MODELS + DP_FULL_MODELS for f in dp_run_tables(e, a)],
        output:
            DPT + "/table2_accuracy.csv",
        params:
            runs={f"{e}/{a}": dp_run_tables(e, a) for e, a in DP_MODELS + DP_FULL_MODELS},
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
            figure="|".join(DP_MODEL_FIGS + ["figC28_margins", "fig5_right", "fig5_middle", "figA10_k_sensitivity"]),
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
        """Figures with one line, cell or panel per architecture (pair) of an experiment (Figs 2
        left and right, 4 middle, 4 right, 5 left, C.21)."""
        input:
            lambda wc: list(dp_exp_fig_inputs(wc).values()),
        output:
            pdf=report(DPF + "/{experiment}/{figure}.pdf", category=DP_CATEGORY,
                       subcategory="{experiment}", caption="../report/captions/depth.rst"),
            png=DPF + "/{experiment}/{figure}.png",
        wildcard_constraints:
            figure="|".join(DP_EXP_FIGS),
        params:
            names=lambda wc: list(dp_exp_fig_inputs(wc)),
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

    rule depth_dataset_figure:
        """The main-text versions of Figs 1 right, 4 middle, 4 right and 5 left: one architecture,
        one line per probed experiment (dataset) that has it."""
        input:
            lambda wc: [f"{DPT}/{p}" for p in pwdepth.dataset_figure_inputs(config, DP, wc.figure, wc.arch).values()],
        output:
            pdf=report(DPF + "/datasets/{arch}/{figure}.pdf", category=DP_CATEGORY,
                       subcategory="across datasets", caption="../report/captions/depth.rst"),
            png=DPF + "/datasets/{arch}/{figure}.png",
        wildcard_constraints:
            figure="|".join(pwdepth.DATASET_FIGURE_TABLES),
        params:
            names=lambda wc: list(pwdepth.dataset_figure_inputs(config, DP, wc.figure, wc.arch)),
            bins=DP["bins"],
        resources:
            mem_mb=2000,
            runtime=10,
        log:
            LOGS + "/depth/figures/datasets/{arch}/{figure}.log",
        benchmark:
            BENCH + "/depth/figures/datasets/{arch}/{figure}.tsv"
        script:
            "../workflow_scripts/depth_figure.py"

    if DP_MD:

        rule depth_mlp_depth:
            """Fig A.9 table: k-NN probe accuracy after each operation (dense and ReLU) of the
            papers.depth.mlp_depth MLPs, on the subsets of Fig 5 right, mean and sd over runs."""
            input:
                [f"{DP_PROBES}/{DP_MD['experiment']}/{a}/seed{s}/knn.h5" for a in DP_MD["archs"]
                 for s in DP_MD["seeds"]],
            output:
                f"{DPT}/{DP_MD['experiment']}/mlp_depth.csv",
            params:
                files={a: [f"{DP_PROBES}/{DP_MD['experiment']}/{a}/seed{s}/knn.h5" for s in DP_MD["seeds"]]
                       for a in DP_MD["archs"]},
            resources:
                mem_mb=2000,
                runtime=10,
            log:
                f"{LOGS}/depth/mlp_depth/{DP_MD['experiment']}.log",
            benchmark:
                f"{BENCH}/depth/mlp_depth/{DP_MD['experiment']}.tsv"
            script:
                "../workflow_scripts/depth_op_curves.py"

        rule depth_figA9:
            """Fig A.9 (choosing the MLP depth): k-NN accuracy after each operation, one panel per MLP."""
            input:
                mlp_depth=DPT + "/{experiment}/mlp_depth.csv",
            output:
                pdf=report(DPF + "/{experiment}/{figure}.pdf", category=DP_CATEGORY,
                           subcategory="{experiment}", caption="../report/captions/depth.rst"),
                png=DPF + "/{experiment}/{figure}.png",
            wildcard_constraints:
                experiment=re.escape(DP_MD["experiment"]),
                figure="figA9_mlp_depth",
            params:
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

        PAPER_TARGETS += [f"{DPF}/{DP_MD['experiment']}/figA9_mlp_depth.{x}" for x in ("pdf", "png")]

    if DP_LR:

        rule depth_lr_probes:
            """Fig E.48 table: k-NN and logistic-regression probe accuracy at every probe point of
            the papers.depth.lr_probes run, on its training split (all of it, and 50/50 halves)."""
            input:
                ckpt=f"{run_dir(DP_LR['experiment'], DP_LR['arch'], int(DP_LR['seed']))}/model.pt",
                data=data_file(config["experiments"][DP_LR["experiment"]]["dataset"]),
                design=f"{DESIGNS}/{DP_LR['experiment']}.h5",
            output:
                f"{DPT}/{DP_LR['experiment']}/{DP_LR['arch']}/lr_probes.csv",
            params:
                settings=DP,
            threads: config.get("threads", 2)
            resources:
                gpu=train_gpus(DP_LR["experiment"]),
                mem_mb=lambda wc, attempt: DP["probe_mem_mb"] * attempt,
                runtime=lambda wc, attempt: DP["probe_runtime_minutes"] * attempt,
            log:
                f"{LOGS}/depth/lr_probes/{DP_LR['experiment']}/{DP_LR['arch']}.log",
            benchmark:
                f"{BENCH}/depth/lr_probes/{DP_LR['experiment']}/{DP_LR['arch']}.tsv"
            script:
                "../workflow_scripts/depth_lr_probes.py"

        rule depth_figE48:
            """Fig E.48: k-NN against logistic-regression probes by layer of one model."""
            input:
                lr_probes=DPT + "/{experiment}/{arch}/lr_probes.csv",
            output:
                pdf=report(DPF + "/{experiment}/{arch}/{figure}.pdf", category=DP_CATEGORY,
                           subcategory="{experiment} / {arch}", caption="../report/captions/depth.rst"),
                png=DPF + "/{experiment}/{arch}/{figure}.png",
            wildcard_constraints:
                experiment=re.escape(DP_LR["experiment"]),
                arch=re.escape(DP_LR["arch"]),
                figure="figE48_lr_probes",
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

        PAPER_TARGETS += [f"{DPF}/{DP_LR['experiment']}/{DP_LR['arch']}/figE48_lr_probes.{x}"
                          for x in ("pdf", "png")]

    rule depth_claims:
        """claims/depth.csv: the spec 002 §6.2 claims measured on the tables."""
        input:
            lambda wc: ([f"{DPT}/{e}/{a}/{n}.csv" for e, a in DP_MODELS for n in DP_AGG]
                        + [f"{DPT}/{e}/{a}/{n}.csv" for e, a in DP_FULL_MODELS for n in pwdepth.FULL_TABLES]
                        + [f"{DPT}/{DP['experiments'][0]}/correlation.csv"]
                        + [f"{DPT}/{k}.csv" for k in DP_CLAIM_KS]
                        + list(DPH_CLAIM_TABLES.values())),       # HINGE (rules/depth_hinge.smk)
        output:
            CLAIMS + "/depth.csv",
        params:
            names=[f"{e}/{a}/{n}" for e, a in DP_MODELS for n in DP_AGG]
                  + [f"{e}/{a}/{n}" for e, a in DP_FULL_MODELS for n in pwdepth.FULL_TABLES]
                  + ["correlation"] + DP_CLAIM_KS
                  + list(DPH_CLAIM_TABLES),
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
    # Fig 4 middle, C.21 and Fig 6 left/middle come from the FULL ensemble where one is configured
    # (the SPLIT runs' test split stands in otherwise, and can still be built by naming it)
    PAPER_TARGETS += [f"{DPF}/{e}/{a}/{f}.{x}" for e, a in DP_MODELS for f in DP_MODEL_FIGS
                      if not (f in DP_FULL_FIGS and pwdepth.full_of(config, DP, e, a)) for x in ("pdf", "png")]
    PAPER_TARGETS += [f"{DPF}/{e}/{f}.{x}" for e in DP["experiments"] for f in DP_EXP_FIGS
                      if not (f in DP_FULL_EXP_FIGS and e in DP["full"]) for x in ("pdf", "png")]
    PAPER_TARGETS += [f"{DPF}/{e}/{a}/{f}.{x}" for e, a in DP_FULL_MODELS for f in DP_FULL_FIGS
                      for x in ("pdf", "png")]
    PAPER_TARGETS += [f"{DPF}/{e}/{f}.{x}" for e in DP_FULL_EXPS for f in DP_FULL_EXP_FIGS
                      for x in ("pdf", "png")]
    # the one-line-per-dataset figures where two or more experiments share an arch (the paper scale)
    PAPER_TARGETS += [f"{DPF}/datasets/{a}/{f}.{x}" for a in pwdepth.shared_archs(config, DP)
                      for f in pwdepth.DATASET_FIGURE_TABLES
                      for x in ("pdf", "png")]
    if DP["noise"]:
        PAPER_TARGETS += [f"{DPF}/{DP['noise']['experiment']}/{DP['noise']['arch']}/{f}.{x}"
                          for f in ("fig5_middle", "fig5_right") for x in ("pdf", "png")]
    if DP_KS:
        PAPER_TARGETS += [f"{DPF}/{DP_KS[0]}/{DP_KS[1]}/figA10_k_sensitivity.{x}" for x in ("pdf", "png")]
