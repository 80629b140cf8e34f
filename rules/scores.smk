# Paper 003 (Kwok et al. 2024), "Dataset Difficulty and the Role of Inductive Bias": per-run
# difficulty scores of every training example from the training engine's records and
# checkpoints, the two ensemble scores, the analyses behind Figures 1-6 and the claims Q1-Q12.
# `papers.scores` in the config names the models (experiment + arch) and every analysis setting
# (pointwise.scores.pipeline.settings fills the defaults); docs/papers/scores.md explains them.

import pointwise.scores.pipeline as pwscores

SC = pwscores.settings(config)

if SC:
    SCT = f"{TABLES}/scores"
    SCF = f"{FIGURES}/scores"
    SC_MODELS = SC["models"]
    SC_EXPS = sorted({m["experiment"] for m in SC_MODELS.values()})
    SC_RET = pwscores.ret_runs(config, SC)
    SC_CATEGORY = "Paper 003 — difficulty scores"

    def sc_cube(name):
        m = SC_MODELS[name]
        return f"{SCT}/per_run/{m['experiment']}/{m['arch']}.h5"

    def sc_scored_data(exp):
        """The dataset file holding the scored examples (the eval set papers.scores.eval_set)."""
        return data_file(pwconfig.eval_sets(config, exp)[SC["eval_set"]][0])

    def sc_run_tables(wildcards):
        e = ensemble(wildcards.experiment)
        return [f"{SCT}/runs/{wildcards.experiment}/{wildcards.arch}/block{s // e}/member{s % e}.csv"
                for s in range(pwconfig.n_seeds(config, wildcards.experiment))]

    SC_FIG_TABLES = {
        "fig2": f"{SCT}/fig2_variance_bins.csv",
        "fig3": f"{SCT}/fig3_rank_stability.csv",
        "corr_mean_mean": f"{SCT}/fig4_corr_mean_mean.csv",
        "corr_mean_run": f"{SCT}/fig4_corr_mean_run_delta.csv",
        "corr_run_run": f"{SCT}/fig4_corr_run_run_delta.csv",
        "loadings": f"{SCT}/fig5_pca_loadings.csv",
        "explained": f"{SCT}/fig5_pca_explained.csv",
        "examples": f"{SCT}/examples.csv",
        "pca1": f"{SCT}/fig5_pca1_rank_stability.csv",
        "by_score": f"{SCT}/fig6_by_score.csv",
        "by_pair": f"{SCT}/fig6_by_pair.csv",
        "capacity": f"{SCT}/fig6_capacity.csv",
        "distributions": f"{SCT}/fig6_distributions.csv",
        "sensitivity": f"{SCT}/example_sensitivity.csv",
        "fig1": f"{SCT}/fig1_results.csv",
        "fig1_examples": f"{SCT}/fig1_examples.csv",
    }

    # ---------------------------------------------------------------- per-run scores

    for _exp in SC_EXPS:

        rule:
            name:
                f"scores_runs_{_exp}"
            """Per-run scores of every seed of one training block: LOSS, ACCURACY, AUM from the
            per-epoch eval logits, FORGETTING and CONSISTENTLY LEARNED from the presentation
            records, GraNd/EL2N at epoch G and VoG from the checkpoints (one CSV per seed)."""
            input:
                data=sc_scored_data(_exp),
                logits=member_outputs(_exp, "logits.h5"),
                stats=member_outputs(_exp, "train_stats.h5"),
                model=member_outputs(_exp, "model.pt"),
                snapshots=member_outputs(_exp, "snapshots.pt"),
            output:
                expand(SCT + "/runs/" + _exp + "/{{arch}}/block{{block}}/member{m}.csv", m=range(ensemble(_exp))),
            params:
                settings=SC,
            threads: config.get("threads", 2)
            resources:
                gpu=lambda wc, exp=_exp: train_gpus(exp),
                mem_mb=lambda wc, attempt: SC["score_mem_mb"] * attempt,
                runtime=lambda wc, attempt: SC["score_runtime_minutes"] * attempt,
            log:
                f"{LOGS}/scores/runs/{_exp}/{{arch}}/block{{block}}.log",
            benchmark:
                f"{BENCH}/scores/runs/{_exp}/{{arch}}/block{{block}}.tsv"
            script:
                "../workflow_scripts/scores_runs.py"


    rule scores_cube:
        """One model's per-run tables stacked into the score cube per_run.h5 (raw and difficulty
        orientation) and its per-example mean/std/min/max table."""
        input:
            sc_run_tables,
        output:
            cube=SCT + "/per_run/{experiment}/{arch}.h5",
            mean=SCT + "/mean/{experiment}/{arch}.csv",
        resources:
            mem_mb=8000,
            runtime=20,
        log:
            LOGS + "/scores/per_run/{experiment}/{arch}.log",
        benchmark:
            BENCH + "/scores/per_run/{experiment}/{arch}.tsv"
        script:
            "../workflow_scripts/scores_cube.py"


    rule scores_orientation:
        """Which direction is hard for every score (higher = harder after orientation)."""
        output:
            SCT + "/orientation.csv",
        log:
            LOGS + "/scores/orientation.log",
        benchmark:
            BENCH + "/scores/orientation.tsv"
        script:
            "../workflow_scripts/scores_orientation.py"


    rule scores_param_counts:
        """Trainable-parameter counts of the models (Fig 6 right), from one checkpoint each."""
        input:
            [f"{run_dir(m['experiment'], m['arch'], 0)}/model.pt" for m in SC_MODELS.values()],
        output:
            SCT + "/param_counts.csv",
        params:
            models=list(SC_MODELS),
        log:
            LOGS + "/scores/param_counts.log",
        benchmark:
            BENCH + "/scores/param_counts.tsv"
        script:
            "../workflow_scripts/scores_param_counts.py"

    # ---------------------------------------------------------------- ensemble scores

    rule scores_agr:
        """ENSEMBLE AGREEMENT substitute: JSD among a dedicated ensemble's per-epoch outputs."""
        input:
            run_files(SC["agr"]["experiment"], SC["agr"]["arch"], "logits.h5"),
        output:
            SCT + "/agr.csv",
        params:
            settings=SC,
        resources:
            mem_mb=8000,
            runtime=30,
        log:
            LOGS + "/scores/agr.log",
        benchmark:
            BENCH + "/scores/agr.tsv"
        script:
            "../workflow_scripts/scores_agr.py"


    rule scores_ret:
        """HOLDOUT RETRAINING substitute: symmetric KL between each parent run and its copy
        fine-tuned on held-out data, averaged over the fine-tuned runs."""
        input:
            children=[f"{run_dir(r['experiment'], r['arch'], r['seed'])}/logits.h5" for r in SC_RET],
            parents=[f"{run_dir(r['parent_experiment'], r['parent_arch'], r['parent_seed'])}/logits.h5"
                     for r in SC_RET],
        output:
            SCT + "/ret.csv",
        params:
            settings=SC,
        resources:
            mem_mb=8000,
            runtime=30,
        log:
            LOGS + "/scores/ret.log",
        benchmark:
            BENCH + "/scores/ret.tsv"
        script:
            "../workflow_scripts/scores_ret.py"

    # ---------------------------------------------------------------- analyses (tables)

    rule scores_variance:
        """Fig 2 table: per-run spread of every score by difficulty bin (base model)."""
        input:
            sc_cube(SC["base"]),
        output:
            SC_FIG_TABLES["fig2"],
        params:
            settings=SC,
        log:
            LOGS + "/scores/fig2.log",
        benchmark:
            BENCH + "/scores/fig2.tsv"
        script:
            "../workflow_scripts/scores_variance.py"


    rule scores_stability:
        """Fig 3 table: rank and median-split stability between disjoint sets of n runs."""
        input:
            sc_cube(SC["base"]),
        output:
            SC_FIG_TABLES["fig3"],
        params:
            settings=SC,
        log:
            LOGS + "/scores/fig3.log",
        benchmark:
            BENCH + "/scores/fig3.tsv"
        script:
            "../workflow_scripts/scores_stability.py"


    rule scores_correlations:
        """Fig 4 tables: the mean-mean, mean-run and run-run Spearman matrices (10 scores)."""
        input:
            cube=sc_cube(SC["base"]),
            agr=SCT + "/agr.csv",
            ret=SCT + "/ret.csv",
        output:
            mean_mean=SC_FIG_TABLES["corr_mean_mean"],
            mean_run_delta=SC_FIG_TABLES["corr_mean_run"],
            run_run_delta=SC_FIG_TABLES["corr_run_run"],
        params:
            settings=SC,
        log:
            LOGS + "/scores/fig4.log",
        benchmark:
            BENCH + "/scores/fig4.tsv"
        script:
            "../workflow_scripts/scores_correlations.py"


    rule scores_pca:
        """Fig 5 left tables: PCA of the quantile-normal mean scores; the per-example table of
        mean scores, AGR, RET and PC 1."""
        input:
            cube=sc_cube(SC["base"]),
            agr=SCT + "/agr.csv",
            ret=SCT + "/ret.csv",
        output:
            loadings=SC_FIG_TABLES["loadings"],
            explained=SC_FIG_TABLES["explained"],
            examples=SC_FIG_TABLES["examples"],
        log:
            LOGS + "/scores/fig5_pca.log",
        benchmark:
            BENCH + "/scores/fig5_pca.tsv"
        script:
            "../workflow_scripts/scores_pca.py"


    rule scores_pca1_stability:
        """Fig 5 right table: the Fig 3 statistics of PCA 1 used as a score."""
        input:
            sc_cube(SC["base"]),
        output:
            SC_FIG_TABLES["pca1"],
        params:
            settings=SC,
        log:
            LOGS + "/scores/fig5_pca1.log",
        benchmark:
            BENCH + "/scores/fig5_pca1.tsv"
        script:
            "../workflow_scripts/scores_pca1_stability.py"


    rule scores_bias:
        """Fig 6 tables: per-example Welch t-tests between every pair of models (selection runs),
        summaries by score and by pair, capacity, and every example's sensitivity lambda."""
        input:
            cubes=[sc_cube(m) for m in SC_MODELS],
            params=SCT + "/param_counts.csv",
            examples=SC_FIG_TABLES["examples"],
        output:
            pvalues=SCT + "/bias_pvalues.h5",
            by_score=SC_FIG_TABLES["by_score"],
            by_pair=SC_FIG_TABLES["by_pair"],
            capacity=SC_FIG_TABLES["capacity"],
            distributions=SC_FIG_TABLES["distributions"],
            sensitivity=SC_FIG_TABLES["sensitivity"],
        params:
            settings=SC,
            models=list(SC_MODELS),
        resources:
            mem_mb=16000,
            runtime=30,
        log:
            LOGS + "/scores/fig6.log",
        benchmark:
            BENCH + "/scores/fig6.tsv"
        script:
            "../workflow_scripts/scores_bias.py"


    rule scores_fingerprint:
        """Fig 1 tables: classifiers of the two base architectures from the top/random/bottom-k
        examples (selected on fitting runs only, and on all runs), scored on held-out runs."""
        input:
            cubes=[sc_cube(m) for m in SC_MODELS],
            sensitivity=SC_FIG_TABLES["sensitivity"],
            examples=SC_FIG_TABLES["examples"],
            data=sc_scored_data(SC_MODELS[SC["base"]]["experiment"]),
        output:
            results=SC_FIG_TABLES["fig1"],
            examples=SC_FIG_TABLES["fig1_examples"],
        params:
            settings=SC,
            models=list(SC_MODELS),
        resources:
            mem_mb=16000,
            runtime=30,
        log:
            LOGS + "/scores/fig1.log",
        benchmark:
            BENCH + "/scores/fig1.tsv"
        script:
            "../workflow_scripts/scores_fingerprint.py"


    rule scores_claims:
        """Claims Q1-Q12 of spec 003 §6.3 measured on the analysis tables (PASS/FAIL)."""
        input:
            **{k: v for k, v in SC_FIG_TABLES.items() if k not in ("distributions", "fig1_examples")},
        output:
            CLAIMS + "/scores.csv",
        params:
            settings=SC,
        log:
            LOGS + "/scores/claims.log",
        benchmark:
            BENCH + "/scores/claims.tsv"
        script:
            "../workflow_scripts/scores_claims.py"

    # ---------------------------------------------------------------- figures (tables only)

    SC_FIGURE_INPUTS = {
        "fig1_fingerprint": {k: SC_FIG_TABLES[k] for k in ("fig1", "fig1_examples")},
        "fig2_variance": {k: SC_FIG_TABLES[k] for k in ("fig2",)},
        "fig3_rank_stability": {k: SC_FIG_TABLES[k] for k in ("fig3",)},
        "fig4_correlations": {k: SC_FIG_TABLES[k] for k in ("corr_mean_mean", "corr_mean_run", "corr_run_run")},
        "fig5_pca": {k: SC_FIG_TABLES[k] for k in ("loadings", "explained", "pca1", "fig3")},
        "fig6_inductive_bias": {k: SC_FIG_TABLES[k] for k in ("distributions", "capacity")},
    }

    for _fig, _tables in SC_FIGURE_INPUTS.items():

        rule:
            name:
                f"scores_{_fig}"
            """One figure of paper 003, drawn from its tables only."""
            input:
                **_tables,
            output:
                pdf=report(f"{SCF}/{_fig}.pdf", category=SC_CATEGORY, subcategory=_fig,
                           caption=f"../report/captions/scores/{_fig}.rst"),
                png=f"{SCF}/{_fig}.png",
            params:
                figure=_fig,
            resources:
                mem_mb=2000,
                runtime=10,
            log:
                f"{LOGS}/scores/figures/{_fig}.log",
            benchmark:
                f"{BENCH}/scores/figures/{_fig}.tsv"
            script:
                "../workflow_scripts/scores_figure.py"


    PAPER_TARGETS.extend(
        [f"{SCF}/{f}.{ext}" for f in SC_FIGURE_INPUTS for ext in ("pdf", "png")]
        + [CLAIMS + "/scores.csv", SCT + "/orientation.csv", SCT + "/bias_pvalues.h5"]
        + [f"{SCT}/mean/{m['experiment']}/{m['arch']}.csv" for m in SC_MODELS.values()]
    )
