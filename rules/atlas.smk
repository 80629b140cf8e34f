# The per-example difficulty atlas: the four papers' per-example measures joined on example id,
# one table per configured atlas (`atlas` in the config), the cross-lens analyses and their
# figures; docs/atlas.md. Each lens is read from its paper's own per-example table, so a lens is
# available only where that paper's part of the workflow is configured.

import pointwise.atlas.build as pwatlas

ATLAS = config.get("atlas", {})
AT_TABLES = f"{TABLES}/atlas"
AT_FIGURES = f"{FIGURES}/atlas"
AT_ANALYSES = ["spearman", "auroc", "jaccard", "taxonomy", "taxonomy_summary"]


def atlas_sources(name):
    """{lens: [table paths in its reader's argument order]} of one atlas."""
    spec, out = ATLAS[name], {}
    if "profiles" in spec:
        p = spec["profiles"]
        out["profiles"] = [f"{TABLES}/profiles/scores/{p['model']}/{e}.csv" for e in p["evalsets"]]
    if "robustness" in spec:
        out["robustness"] = [f"{TABLES}/robustness/testbed/per_example.csv"]
        if spec["robustness"].get("cscore", False):
            out["robustness"].append(f"{TABLES}/robustness/difficulty/cscore.csv")
    if "depth" in spec:
        d = spec["depth"]
        out["depth"] = [f"{TABLES}/depth/{d['experiment']}/{d['arch']}/per_example.csv"]
    if spec.get("scores"):
        out["scores"] = [f"{TABLES}/scores/examples.csv", f"{TABLES}/scores/example_sensitivity.csv"]
    return out


def atlas_has_noise(name):
    """Whether the atlas dataset (or one of its parents) carries injected label noise."""
    ds = ATLAS[name]["dataset"]
    while ds:
        spec = DATASETS[ds]
        if spec.get("derive") == "label_noise":
            return True
        ds = spec.get("parent")
    return False


def atlas_figures(name):
    return ["spearman", "jaccard", "taxonomy"] + (["auroc"] if atlas_has_noise(name) else [])


if ATLAS:

    wildcard_constraints:
        atlas="|".join(ATLAS),
        atlas_figure="spearman|auroc|jaccard|taxonomy",

    rule atlas_table:
        """One row per example of the atlas dataset with every configured lens's measures."""
        input:
            dataset=lambda wc: data_file(ATLAS[wc.atlas]["dataset"]),
            tables=lambda wc: [p for ps in atlas_sources(wc.atlas).values() for p in ps],
        output:
            AT_TABLES + "/{atlas}.csv",
        params:
            sources=lambda wc: atlas_sources(wc.atlas),
        log:
            LOGS + "/atlas/{atlas}/table.log",
        benchmark:
            BENCH + "/atlas/{atlas}/table.tsv"
        script:
            "../workflow_scripts/atlas_table.py"

    rule atlas_analyses:
        """Spearman matrix with bootstrap intervals, AUROC for flipped labels, hard-set Jaccard,
        taxonomy agreement."""
        input:
            AT_TABLES + "/{atlas}.csv",
        output:
            **{a: AT_TABLES + "/{atlas}/" + a + ".csv" for a in AT_ANALYSES},
        params:
            spec=lambda wc: ATLAS[wc.atlas],
        log:
            LOGS + "/atlas/{atlas}/analyses.log",
        benchmark:
            BENCH + "/atlas/{atlas}/analyses.tsv"
        script:
            "../workflow_scripts/atlas_analyses.py"

    rule atlas_figure:
        """One atlas figure (spearman, auroc, jaccard, taxonomy) from the analysis tables."""
        input:
            **{a: AT_TABLES + "/{atlas}/" + a + ".csv" for a in AT_ANALYSES},
        output:
            pdf=report(AT_FIGURES + "/{atlas}/{atlas_figure}.pdf", category="Atlas",
                       subcategory="{atlas}", caption="../report/captions/atlas.rst"),
            png=AT_FIGURES + "/{atlas}/{atlas_figure}.png",
        params:
            top_fraction=lambda wc: ATLAS[wc.atlas].get("top_fraction", 0.1),
        log:
            LOGS + "/atlas/{atlas}/{atlas_figure}.log",
        benchmark:
            BENCH + "/atlas/{atlas}/{atlas_figure}.tsv"
        script:
            "../workflow_scripts/atlas_figure.py"

    for _name in ATLAS:
        PAPER_TARGETS.extend([f"{AT_TABLES}/{_name}.csv"] + [f"{AT_FIGURES}/{_name}/{f}.pdf" for f in atlas_figures(_name)])
