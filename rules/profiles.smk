# Paper 000 (Kaplun et al. 2022), "Deconstructing Distributions: A Pointwise Framework of
# Learning": per-example learning profiles of R runs per model on the reference (in-distribution)
# set and an OOD ladder, their scores, taxonomy, distances, pointwise accuracy-on-the-curve, the
# Neg set and the theory checks; the figures and the claims C1-C15. `papers.profiles` in the config
# names the models (experiment + arch + regime) and every analysis setting
# (pointwise.profiles.pipeline.settings fills the defaults); docs/papers/profiles.md explains them.

import pointwise.profiles.pipeline as pwprofiles

PF = pwprofiles.settings(config)

if PF:
    PFT = f"{TABLES}/profiles"
    PFF = f"{FIGURES}/profiles"
    PF_MODELS = PF["models"]
    PF_SETS = list(dict.fromkeys([PF["reference"], *PF["ladder"]]))
    PF_CATEGORY = "Paper 000 — learning profiles"

    def pf_runs(model):
        m = PF_MODELS[model]
        return run_files(m["experiment"], m["arch"], "logits.h5")

    def pf_all_runs():
        return {name: pf_runs(name) for name in PF_MODELS}

    PF_SCORES = {f"{m}/{e}": f"{PFT}/scores/{m}/{e}.csv" for m in PF_MODELS for e in PF_SETS}
    # held-out sets: the models' own training pool, each example profiled over the runs that held
    # it out (for the atlas); scored, not part of the ladder analyses
    PF_HELDOUT = [e for e in PF["heldout"] if e not in PF_SETS]
    PF_PROFILES = {f"{m}/{e}": f"{PFT}/profiles/{m}/{e}.h5" for m in PF_MODELS for e in PF_SETS}

    # the Neg pool: profiled under the selecting model only, for the Neg example of Fig 7(c)
    PF_POOL = [PF["pool"]] if PF["pool"] and PF["pool"] not in PF_SETS + PF_HELDOUT else []

    wildcard_constraints:
        pf_model="|".join(PF_MODELS),
        pf_evalset="|".join(PF_SETS + PF_HELDOUT + PF_POOL),

    rule profiles_scores:
        """Profiles (spec §3.2) and the per-example score table (§7.1: nmono of accuracy,
        negative entropy and soft accuracy, template distances, category, final accuracy, nmono
        of the two run halves) of one model on one eval set; on a held-out set, from the runs
        that held each example out (the design says which)."""
        input:
            runs=lambda wc: pf_runs(wc.pf_model),
            design=lambda wc: ([f"{DESIGNS}/{PF_MODELS[wc.pf_model]['experiment']}.h5"]
                               if wc.pf_evalset in PF["heldout"] else []),
        output:
            csv=PFT + "/scores/{pf_model}/{pf_evalset}.csv",
            h5=PFT + "/profiles/{pf_model}/{pf_evalset}.h5",
        params:
            reference=PF["reference"],
            threshold=PF["threshold"],
            n_grid=PF["n_grid"],
        resources:
            mem_mb=4000,
            runtime=20,
        log:
            LOGS + "/profiles/scores/{pf_model}/{pf_evalset}.log",
        benchmark:
            BENCH + "/profiles/scores/{pf_model}/{pf_evalset}.tsv"
        script:
            "../workflow_scripts/profiles_scores.py"

    rule profiles_summary:
        """Taxonomy fractions (Figs 4/5), nmono survival curves (Figs 6-right, 10) and one summary
        row per model and eval set with the split-half Spearman and the §6.1 noise floor."""
        input:
            scores=list(PF_SCORES.values()),
            profiles=list(PF_PROFILES.values()),
        output:
            fractions=PFT + "/taxonomy_fractions.csv",
            survival=PFT + "/nmono_survival.csv",
            summary=PFT + "/summary.csv",
        params:
            names=list(PF_SCORES),
            settings=PF,
        resources:
            mem_mb=4000,
            runtime=20,
        log:
            LOGS + "/profiles/summary.log",
        benchmark:
            BENCH + "/profiles/summary.tsv"
        script:
            "../workflow_scripts/profiles_summary.py"

    rule profiles_distance:
        """Profile distances D_TV, D_KL, D_cos between every pair of models on the reference set,
        all runs and split-half (Figs 6-left, 11)."""
        input:
            [p for ps in pf_all_runs().values() for p in ps],
        output:
            PFT + "/profile_distance.csv",
        params:
            models=pf_all_runs(),
            reference=PF["reference"],
            n_grid=PF["n_grid"],
        resources:
            mem_mb=8000,
            runtime=30,
        log:
            LOGS + "/profiles/distance.log",
        benchmark:
            BENCH + "/profiles/distance.tsv"
        script:
            "../workflow_scripts/profiles_distance.py"

    rule profiles_theory:
        """Spec §6 simulations and closed-form checks at the R and K of the first model (read
        from its reference profiles), and the curves of the theory figures."""
        input:
            PF_PROFILES[f"{next(iter(PF_MODELS))}/{PF['reference']}"],
        output:
            table=PFT + "/theory.csv",
            curves=PFT + "/theory_curves.csv",
        params:
            settings=PF,
        log:
            LOGS + "/profiles/theory.log",
        benchmark:
            BENCH + "/profiles/theory.tsv"
        script:
            "../workflow_scripts/profiles_theory.py"

    rule profiles_global:
        """Every run's accuracy at every checkpoint on the reference set and the ladder, over all
        examples and the superclass, and the probit accuracy-on-the-line fits (Fig 2, C14)."""
        input:
            [p for ps in pf_all_runs().values() for p in ps],
        output:
            acc=PFT + "/global_accuracy.csv",
            line=PFT + "/accuracy_line.csv",
        params:
            models=pf_all_runs(),
            settings=PF,
        resources:
            mem_mb=4000,
        log:
            LOGS + "/profiles/global.log",
        benchmark:
            BENCH + "/profiles/global.tsv"
        script:
            "../workflow_scripts/profiles_global.py"

    PF_FIRST = next(iter(PF_MODELS))
    PF_EXAMPLE_KEYS = [f"{m}/{PF['reference']}" for m in PF_MODELS] + [f"{PF_FIRST}/{PF['ladder'][-1]}"]
    PF_EXAMPLE_KEYS = list(dict.fromkeys(PF_EXAMPLE_KEYS))
    _pf_evalsets = pwconfig.eval_sets(config, PF_MODELS[PF_FIRST]["experiment"])
    PF_EXAMPLE_DATA = {ev: data_file(_pf_evalsets[ev][0])
                       for ev in dict.fromkeys([PF["reference"], PF["ladder"][-1]] + ([PF["pool"]] if PF["pool"] else []))}

    rule profiles_examples:
        """The example points of Figs 2, 3, 6 (middle), 7(c), 8, 9, 13 and 14 with their images
        and profiles (Fig 7(c): the selecting model's profile of a Neg point on the pool)."""
        input:
            scores=[PF_SCORES[k] for k in PF_EXAMPLE_KEYS],
            profiles=[PF_PROFILES[k] for k in PF_EXAMPLE_KEYS],
            data=list(PF_EXAMPLE_DATA.values()),
            neg=[PFT + "/neg/indices.csv"] if PF["pool"] else [],
            neg_profiles=[f"{PFT}/profiles/{PF['neg_model']}/{PF['pool']}.h5"] if PF["pool"] else [],
        output:
            examples=PFT + "/examples/examples.csv",
            profiles=PFT + "/examples/example_profiles.csv",
        params:
            names=PF_EXAMPLE_KEYS,
            data=PF_EXAMPLE_DATA,
            settings=PF,
        resources:
            mem_mb=2000,
        log:
            LOGS + "/profiles/examples.log",
        benchmark:
            BENCH + "/profiles/examples.tsv"
        script:
            "../workflow_scripts/profiles_examples.py"

    PF_FIG_SETTINGS = {k: PF[k] for k in ("models", "reference", "ladder", "superclass", "pool", "neg_model",
                                          "switch_band")}
    PF_EX = {"examples": PFT + "/examples/examples.csv", "example_profiles": PFT + "/examples/example_profiles.csv"}
    PF_FIGS = {
        "profile_matrix": {"profiles": PF_PROFILES[f"{PF_FIRST}/{PF['reference']}"],
                           "scores": PF_SCORES[f"{PF_FIRST}/{PF['reference']}"]},
        "fig2_zoom": {"acc": PFT + "/global_accuracy.csv", "line": PFT + "/accuracy_line.csv", **PF_EX},
        "fig3_taxonomy": PF_EX,
        "fig8_gallery": PF_EX,
        "fig9_global_local": PF_EX,
        "taxonomy_pies": {"fractions": PFT + "/taxonomy_fractions.csv"},
        "fig5_pies": {"fractions": PFT + "/taxonomy_fractions.csv"},
        "fig6_survival": {"survival": PFT + "/nmono_survival.csv", "distance": PFT + "/profile_distance.csv",
                          "example_profiles": PF_EX["example_profiles"]},
        "fig10_survival": {"survival": PFT + "/nmono_survival.csv"},
        "fig11_distance": {"distance": PFT + "/profile_distance.csv"},
        "fig14_test_samples": {"examples": PF_EX["examples"]},
        "theory_skills": {"curves": PFT + "/theory_curves.csv"},
        "theory_manifold": {"curves": PFT + "/theory_curves.csv"},
        "theory_bayes": {"curves": PFT + "/theory_curves.csv"},
    }

    if PF["aoc_pair"]:

        rule profiles_aoc:
            """Pointwise accuracy-on-the-curve d(p) of the two models of aoc_pair with the
            permutation baselines and the split-half floor (Fig 12)."""
            input:
                a=pf_runs(PF["aoc_pair"][0]),
                b=pf_runs(PF["aoc_pair"][1]),
            output:
                PFT + "/pointwise_aoc.csv",
            params:
                evalset=PF["aoc_evalset"],
                reference=PF["reference"],
                n_grid=PF["n_grid"],
                seed=PF["seed"],
            log:
                LOGS + "/profiles/aoc.log",
            benchmark:
                BENCH + "/profiles/aoc.tsv"
            script:
                "../workflow_scripts/profiles_aoc.py"

        PF_FIGS["fig12_aoc"] = {"aoc": PFT + "/pointwise_aoc.csv"}

    if PF["pool"]:

        rule profiles_neg:
            """The Neg set (§3.7): class-balanced top-nmono pool points selected on half A of the
            selecting model's runs; accuracy-on-the-line on its held-out half B and on every other
            model (Fig 7)."""
            input:
                [p for ps in pf_all_runs().values() for p in ps],
            output:
                indices=PFT + "/neg/indices.csv",
                aol=PFT + "/neg/aol_summary.csv",
                curves=PFT + "/neg/aol_curves.csv",
            params:
                models=pf_all_runs(),
                settings=PF,
            resources:
                mem_mb=8000,
                runtime=30,
            log:
                LOGS + "/profiles/neg.log",
            benchmark:
                BENCH + "/profiles/neg.tsv"
            script:
                "../workflow_scripts/profiles_neg.py"

        PF_FIGS["fig7_neg"] = {"aol": PFT + "/neg/aol_summary.csv", "curves": PFT + "/neg/aol_curves.csv"}
        PF_FIGS["fig7c_neg_profile"] = PF_EX
        PF_FIGS["fig13_neg_samples"] = {"examples": PF_EX["examples"]}

    for _fig, _tables in PF_FIGS.items():

        rule:
            name:
                f"profiles_figure_{_fig}"
            input:
                **_tables,
            output:
                pdf=report(f"{PFF}/{_fig}.pdf", category=PF_CATEGORY, subcategory=_fig,
                           caption=f"../report/captions/profiles/{_fig}.rst"),
                png=f"{PFF}/{_fig}.png",
            params:
                figure=_fig,
                settings=PF_FIG_SETTINGS,
            resources:
                mem_mb=2000,
            log:
                f"{LOGS}/profiles/figures/{_fig}.log",
            benchmark:
                f"{BENCH}/profiles/figures/{_fig}.tsv"
            script:
                "../workflow_scripts/profiles_figure.py"

    PF_CLAIM_INPUTS = {"summary": PFT + "/summary.csv", "survival": PFT + "/nmono_survival.csv",
                       "distance": PFT + "/profile_distance.csv", "theory": PFT + "/theory.csv",
                       "line": PFT + "/accuracy_line.csv"}
    if PF["aoc_pair"]:
        PF_CLAIM_INPUTS["aoc"] = PFT + "/pointwise_aoc.csv"
    if PF["pool"]:
        PF_CLAIM_INPUTS["aol"] = PFT + "/neg/aol_summary.csv"

    rule profiles_claims:
        """Claims C1-C15 of spec §7.2, measured from the tables (PASS / FAIL / NO DATA)."""
        input:
            **PF_CLAIM_INPUTS,
        output:
            CLAIMS + "/profiles.csv",
        params:
            settings=PF,
        log:
            LOGS + "/profiles/claims.log",
        benchmark:
            BENCH + "/profiles/claims.tsv"
        script:
            "../workflow_scripts/profiles_claims.py"

    PAPER_TARGETS.extend(
        [f"{PFF}/{f}.{ext}" for f in PF_FIGS for ext in ("pdf", "png")]
        + [CLAIMS + "/profiles.csv", PFT + "/theory.csv"]
        + ([PFT + "/neg/indices.csv"] if PF["pool"] else [])
    )
