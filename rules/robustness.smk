# Paper 001 (Andreassen et al.), "The Evolution of Out-of-Distribution Robustness Throughout
# Fine-Tuning": the testbed fit (Tables 2/3), effective robustness of every fine-tuning
# configuration at every eval point, max ER and its sweeps, App. D, the per-example analyses
# (dominance, examples no testbed model gets right, triplets), the C-score difficulty designs,
# class-mapped zero-shot, imported published predictions, every figure and the claims.
# `papers.robustness` names the runs and settings (pointwise.robustness.settings fills defaults and
# checks the names); docs/papers/robustness.md explains them.

import pointwise.robustness.settings as rbsettings

RB = rbsettings.settings(config) if (config.get("papers") or {}).get("robustness") else None

if RB:
    RBT = f"{TABLES}/robustness"
    RBF = f"{FIGURES}/robustness"
    RB_CATEGORY = "Paper 001 — effective robustness"
    RB_SETS = rbsettings.all_sets(RB)
    RB_ROLES = rbsettings.ood_roles(RB)
    RB_PSET_RE = "testbed|imported_[A-Za-z0-9_]+"

    def rb_logits(exp, arch, seed):
        return f"{run_dir(exp, arch, seed)}/logits.h5"

    RB_TESTBED = {rbsettings.model_name(e, a, s): rb_logits(e, a, s)
                  for e, a, s in rbsettings.testbed_members(RB, config)}
    RB_RUNS = {run: [(e, a, s, rb_logits(e, a, s)) for e, a, s in rbsettings.run_members(RB, config, run)]
               for run in RB["runs"]}
    RB_RUN_SETS = {run: rbsettings.run_sets(RB, config, run) for run in RB["runs"]}
    RB_SPECIAL = {run: rb_logits(RB["runs"][run]["experiment"], RB["runs"][run]["arch"], RB["special_seed"])
                  for run in RB["special"]}
    RB_ZEROSHOT = {name: rb_logits(z["experiment"], z["arch"], z.get("seed", 0)) for name, z in RB["zeroshot"].items()}
    RB_DIFF = RB["difficulty"]

    def rb_only(keys):
        """The settings a rule reads, so that changing another setting does not rerun it."""
        return {k: RB[k] for k in keys}

    def rb_pset_predictions(wildcards):
        """The prediction files one predictions set's per-example analyses read: the testbed with
        the special and zero-shot models, or one imported set."""
        if wildcards.pset != "testbed":
            return [f"{RBT}/{wildcards.pset}/predictions.h5"]
        files = [f"{RBT}/testbed/predictions.h5"]
        if RB_SPECIAL:
            files.append(f"{RBT}/special/predictions.h5")
        if RB_ZEROSHOT:
            files.append(f"{RBT}/zeroshot/predictions.h5")
        return files

    # ---------------------------------------------------------------- testbed and imported sets

    rule robustness_testbed:
        """Testbed predictions (final eval point of every testbed run) in the per-model format and
        their accuracies with 95% Clopper-Pearson intervals (testbed_acc.csv)."""
        input:
            list(RB_TESTBED.values()),
        output:
            h5=RBT + "/testbed/predictions.h5",
            csv=RBT + "/testbed/testbed_acc.csv",
        params:
            logits=RB_TESTBED,
            sets=RB_SETS,
            settings=rb_only(('alpha',)),
        resources:
            mem_mb=RB["mem_mb"],
            runtime=RB["runtime_minutes"],
        log:
            LOGS + "/robustness/testbed.log",
        benchmark:
            BENCH + "/robustness/testbed.tsv"
        script:
            "../workflow_scripts/robustness_testbed.py"

    rule robustness_import:
        """Published per-model predictions (labels/{set}.json|npy and {model}/{set}.json|npy:
        predicted labels or logits) imported into the same per-model format."""
        input:
            lambda wc: rbsettings.imported_spec(RB, wc.name)["path"],
        output:
            h5=RBT + "/imported_{name}/predictions.h5",
            csv=RBT + "/imported_{name}/testbed_acc.csv",
        wildcard_constraints:
            name="[A-Za-z0-9_]+",
        params:
            spec=lambda wc: rbsettings.imported_spec(RB, wc.name),
            settings=rb_only(('alpha',)),
        resources:
            mem_mb=RB["mem_mb"],
            runtime=RB["runtime_minutes"],
        log:
            LOGS + "/robustness/imported_{name}/import.log",
        benchmark:
            BENCH + "/robustness/imported_{name}/import.tsv"
        script:
            "../workflow_scripts/robustness_import.py"

    rule robustness_fit:
        """The testbed fit of OOD on ID accuracy in linear, probit and logit space: Table 2 (R²),
        Table 3 (logit constants), every fit, and β / ER with CP bars for every model."""
        input:
            RBT + "/{pset}/predictions.h5",
        output:
            table2=RBT + "/{pset}/table2_scaling_r2.csv",
            table3=RBT + "/{pset}/table3_fit_params.csv",
            fits=RBT + "/{pset}/fits.csv",
            model_er=RBT + "/{pset}/model_er.csv",
        wildcard_constraints:
            pset=RB_PSET_RE,
        params:
            settings=rb_only(('alpha', 'clip', 'scaling')),
        resources:
            mem_mb=RB["mem_mb"],
            runtime=RB["runtime_minutes"],
        log:
            LOGS + "/robustness/{pset}/fit.log",
        benchmark:
            BENCH + "/robustness/{pset}/fit.tsv"
        script:
            "../workflow_scripts/robustness_fit.py"

    rule robustness_per_example:
        """Dominance probability matrix and pairs, accuracy on the examples no (other) testbed
        model gets right (leave-one-out) with those examples, and triplet probabilities (the
        spec's uncertain reading), on the ID test set."""
        input:
            rb_pset_predictions,
        output:
            dominance_matrix=RBT + "/{pset}/dominance_matrix.csv",
            dominance_pairs=RBT + "/{pset}/dominance_pairs.csv",
            unique_correct=RBT + "/{pset}/unique_correct.csv",
            unique_correct_examples=RBT + "/{pset}/unique_correct_examples.csv",
            triplets=RBT + "/{pset}/triplets.csv",
            triplets_models=RBT + "/{pset}/triplets_models.csv",
        wildcard_constraints:
            pset=RB_PSET_RE,
        params:
            settings=rb_only(('triplets',)),
        resources:
            mem_mb=RB["mem_mb"],
            runtime=RB["runtime_minutes"],
        log:
            LOGS + "/robustness/{pset}/per_example.log",
        benchmark:
            BENCH + "/robustness/{pset}/per_example.tsv"
        script:
            "../workflow_scripts/robustness_per_example.py"

    rule robustness_testbed_examples:
        """One row per ID test example (the atlas's paper-001 lens): how many testbed models get it
        right, whether none or exactly one does (S and the leave-one-out sets), the same per OOD
        set where it holds the ID examples transformed (same ids)."""
        input:
            RBT + "/{pset}/predictions.h5",
        output:
            RBT + "/{pset}/per_example.csv",
        wildcard_constraints:
            pset=RB_PSET_RE,
        resources:
            mem_mb=RB["mem_mb"],
            runtime=RB["runtime_minutes"],
        log:
            LOGS + "/robustness/{pset}/testbed_examples.log",
        benchmark:
            BENCH + "/robustness/{pset}/testbed_examples.tsv"
        script:
            "../workflow_scripts/robustness_examples.py"

    # ---------------------------------------------------------------- fine-tuning trajectories

    rule robustness_accuracies:
        """ID and OOD accuracy of every seed of every fine-tuning configuration at every eval point."""
        input:
            [m[3] for members in RB_RUNS.values() for m in members],
        output:
            RBT + "/runs/accuracies.csv",
        params:
            runs=RB_RUNS,
            sets=RB_RUN_SETS,
        resources:
            mem_mb=RB["mem_mb"],
            runtime=RB["runtime_minutes"],
        log:
            LOGS + "/robustness/accuracies.log",
        benchmark:
            BENCH + "/robustness/accuracies.tsv"
        script:
            "../workflow_scripts/robustness_accuracies.py"

    rule robustness_er:
        """ER = OOD - β(ID) at every checkpoint, binned means/stds over runs (100 bins), max ER with
        both error bars, the sweeps, the no-gap reference and ER as a share of the gap (App. D)."""
        input:
            acc=RBT + "/runs/accuracies.csv",
            fits=RBT + "/testbed/fits.csv",
            model_er=RBT + "/testbed/model_er.csv",
        output:
            points=RBT + "/er/points.csv",
            binned=RBT + "/er/binned.csv",
            max_er=RBT + "/er/max_er.csv",
            sweeps=RBT + "/er/sweeps.csv",
            gap_reference=RBT + "/er/gap_reference.csv",
            mixed_classifier=RBT + "/er/mixed_classifier.csv",
        params:
            settings=RB,
        resources:
            mem_mb=RB["mem_mb"],
            runtime=RB["runtime_minutes"],
        log:
            LOGS + "/robustness/er.log",
        benchmark:
            BENCH + "/robustness/er.tsv"
        script:
            "../workflow_scripts/robustness_er.py"

    if RB_SPECIAL:

        rule robustness_special:
            """The max-ER and converged checkpoints of the designated seed of each special run (§3.12),
            as a table and in the per-model format."""
            input:
                acc=RBT + "/runs/accuracies.csv",
                fits=RBT + "/testbed/fits.csv",
                logits=list(RB_SPECIAL.values()),
            output:
                csv=RBT + "/special/special_models.csv",
                h5=RBT + "/special/predictions.h5",
            params:
                logits=RB_SPECIAL,
                sets=RB_SETS,
                settings=RB,
            resources:
                mem_mb=RB["mem_mb"],
                runtime=RB["runtime_minutes"],
            log:
                LOGS + "/robustness/special.log",
            benchmark:
                BENCH + "/robustness/special.tsv"
            script:
                "../workflow_scripts/robustness_special.py"

    if RB_ZEROSHOT:

        rule robustness_zeroshot:
            """Class-mapped zero-shot accuracy and ER of pretrained models, max/mean/sum aggregation."""
            input:
                fits=RBT + "/testbed/fits.csv",
                logits=list(RB_ZEROSHOT.values()),
            output:
                csv=RBT + "/zeroshot/zeroshot.csv",
                h5=RBT + "/zeroshot/predictions.h5",
            params:
                logits=RB_ZEROSHOT,
                settings=rb_only(('scaling', 'id_set', 'ood_sets', 'zeroshot')),
            resources:
                mem_mb=RB["mem_mb"],
                runtime=RB["runtime_minutes"],
            log:
                LOGS + "/robustness/zeroshot.log",
            benchmark:
                BENCH + "/robustness/zeroshot.tsv"
            script:
                "../workflow_scripts/robustness_zeroshot.py"

    # ---------------------------------------------------------------- difficulty (C-score proxy)

    if RB_DIFF:
        RB_DIFF_SRC = RB_DIFF["scores_from"]["experiment"]
        RB_DIFF_RUNS = [(s, rb_logits(RB_DIFF_SRC, a, s))
                        for a in (RB_DIFF["scores_from"].get("archs") or config["experiments"][RB_DIFF_SRC]["archs"])
                        for s in range(pwconfig.n_seeds(config, RB_DIFF_SRC))]

        rule robustness_cscore:
            """C-score proxy of every pool example from the held-out runs of a k-fold experiment,
            the class-balanced easy/hard/random subsets and the phase-out schedules (per epoch, and
            each example's last kept epoch)."""
            input:
                design=f"{DESIGNS}/{RB_DIFF_SRC}.h5",
                logits=[p for _, p in RB_DIFF_RUNS],
            output:
                cscore=RBT + "/difficulty/cscore.csv",
                subsets=RBT + "/difficulty/subsets.csv",
                phaseout=RBT + "/difficulty/phaseout.csv",
                phaseout_examples=RBT + "/difficulty/phaseout_examples.csv",
            params:
                logits=RB_DIFF_RUNS,
                settings=rb_only(('difficulty',)),
            resources:
                mem_mb=RB["mem_mb"],
                runtime=RB["runtime_minutes"],
            log:
                LOGS + "/robustness/cscore.log",
            benchmark:
                BENCH + "/robustness/cscore.tsv"
            script:
                "../workflow_scripts/robustness_cscore.py"

        if RB_DIFF.get("designs"):

            rule robustness_difficulty_design:
                """Design of a difficulty experiment: every seed fine-tunes on the same easy, hard or
                random class-balanced subset (C.9), chosen by the C-score proxy."""
                input:
                    subsets=RBT + "/difficulty/subsets.csv",
                    data=lambda wc: data_file(config["experiments"][wc.dexp]["dataset"]),
                output:
                    DESIGNS + "/{dexp}.h5",
                wildcard_constraints:
                    dexp="|".join(RB_DIFF["designs"]),
                params:
                    spec=lambda wc: config["experiments"][wc.dexp],
                    kind=lambda wc: RB_DIFF["designs"][wc.dexp],
                    base_seed=config.get("seed", 0),
                resources:
                    mem_mb=RB["mem_mb"],
                    runtime=RB["runtime_minutes"],
                log:
                    LOGS + "/designs/{dexp}.log",
                benchmark:
                    BENCH + "/designs/{dexp}.tsv"
                script:
                    "../workflow_scripts/robustness_difficulty_design.py"

            ruleorder: robustness_difficulty_design > design

        RB_PHASEOUT = (RB_DIFF.get("phaseout") or {}).get("designs") or {}
        if RB_PHASEOUT:

            rule robustness_phaseout_design:
                """Design of a phase-out experiment (Fig 19): every seed starts on the whole pool and
                trains at each epoch on the examples its schedule keeps (the hardest by the C-score
                proxy): the per-epoch mask the training engine reads."""
                input:
                    examples=RBT + "/difficulty/phaseout_examples.csv",
                    phaseout=RBT + "/difficulty/phaseout.csv",
                    data=lambda wc: data_file(config["experiments"][wc.pexp]["dataset"]),
                output:
                    DESIGNS + "/{pexp}.h5",
                wildcard_constraints:
                    pexp="|".join(RB_PHASEOUT),
                params:
                    spec=lambda wc: config["experiments"][wc.pexp],
                    n_final=lambda wc: RB_PHASEOUT[wc.pexp],
                    base_seed=config.get("seed", 0),
                resources:
                    mem_mb=RB["mem_mb"],
                    runtime=RB["runtime_minutes"],
                log:
                    LOGS + "/designs/{pexp}.log",
                benchmark:
                    BENCH + "/designs/{pexp}.tsv"
                script:
                    "../workflow_scripts/robustness_phaseout_design.py"

            ruleorder: robustness_phaseout_design > design

    # ---------------------------------------------------------------- claims

    RB_CLAIM_TABLES = {
        "table2": RBT + "/testbed/table2_scaling_r2.csv",
        "max_er": RBT + "/er/max_er.csv",
        "sweeps": RBT + "/er/sweeps.csv",
        "gap_reference": RBT + "/er/gap_reference.csv",
        "dominance_pairs": RBT + "/testbed/dominance_pairs.csv",
        "unique_correct": RBT + "/testbed/unique_correct.csv",
        "triplets": RBT + "/testbed/triplets.csv",
        "accuracies": RBT + "/runs/accuracies.csv",
        "binned": RBT + "/er/binned.csv",
    }
    if RB_SPECIAL:
        RB_CLAIM_TABLES["special_models"] = RBT + "/special/special_models.csv"
    if RB_ZEROSHOT:
        RB_CLAIM_TABLES["zeroshot"] = RBT + "/zeroshot/zeroshot.csv"

    rule robustness_claims:
        """Each testable claim of spec 001 §6: statistic, threshold, measured value, PASS/FAIL."""
        input:
            **RB_CLAIM_TABLES,
        output:
            CLAIMS + "/robustness.csv",
        params:
            settings=RB,
        log:
            LOGS + "/robustness/claims.log",
        benchmark:
            BENCH + "/robustness/claims.tsv"
        script:
            "../workflow_scripts/robustness_claims.py"

    # ---------------------------------------------------------------- figures (tables only)

    RB_FIGURES = {fig: ({k: f"{RBT}/{rbsettings.TABLES[k]}" for k in keys}, sweep)
                  for fig, (keys, sweep) in rbsettings.figures(RB).items()}
    RB_PSET_FIGURES = rbsettings.PSET_FIGURES
    RB_PARAMS = {"roles": RB_ROLES, "main": RB["main"]}

    for _fig, (_tables, _sweep) in RB_FIGURES.items():

        rule:
            name:
                f"robustness_{_fig}"
            """One figure of paper 001, drawn from its tables only."""
            input:
                **_tables,
            output:
                pdf=report(f"{RBF}/{_fig}.pdf", category=RB_CATEGORY, subcategory="fine-tuning",
                           caption=f"../report/captions/robustness/{_fig}.rst"),
                png=f"{RBF}/{_fig}.png",
            params:
                figure=_fig,
                draw={**RB_PARAMS, "sweep": _sweep},
            resources:
                mem_mb=2000,
                runtime=10,
            log:
                f"{LOGS}/robustness/figures/{_fig}.log",
            benchmark:
                f"{BENCH}/robustness/figures/{_fig}.tsv"
            script:
                "../workflow_scripts/robustness_figure.py"

    for _fig, _keys in RB_PSET_FIGURES.items():

        rule:
            name:
                f"robustness_{_fig}"
            """One per-predictions-set figure of paper 001 (the workflow's testbed or an imported
            set), drawn from its tables only."""
            input:
                **{k: f"{RBT}/{{pset}}/{k}.csv" for k in _keys},
            output:
                pdf=report(f"{RBF}/{{pset}}/{_fig}.pdf", category=RB_CATEGORY, subcategory="{pset}",
                           caption=f"../report/captions/robustness/{_fig}.rst"),
                png=f"{RBF}/{{pset}}/{_fig}.png",
            wildcard_constraints:
                pset=RB_PSET_RE,
            params:
                figure=_fig,
                draw=RB_PARAMS,
            resources:
                mem_mb=2000,
                runtime=10,
            log:
                f"{LOGS}/robustness/figures/{{pset}}/{_fig}.log",
            benchmark:
                f"{BENCH}/robustness/figures/{{pset}}/{_fig}.tsv"
            script:
                "../workflow_scripts/robustness_figure.py"

    PAPER_TARGETS.extend(rbsettings.targets(RB, RBT, RBF, CLAIMS))
