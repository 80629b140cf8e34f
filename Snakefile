# pointwise: four papers on per-example difficulty as one Snakemake DAG.
# The rules only declare; workflow_scripts/ adapt; pointwise/ computes. See README.md.

from snakemake.utils import min_version, validate

min_version("9.0")

# The default scale, unless config files are named on the command line (--configfile): those
# replace it instead of extending it, so one scale never inherits another scale's experiments.
# (To overlay a file on the default scale, name both: --configfile config.yaml local/data.yaml.)
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


validate(config, "schemas/config.schema.yaml")

report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/train.smk"
include: "rules/robustness.smk"
include: "rules/scores.smk"
# ---- paper 002: prediction depth (the HINGE rules first: depth.smk's claims rule reads their tables) ----
include: "rules/depth_hinge.smk"
include: "rules/depth.smk"
# ---- paper 000: learning profiles ----
include: "rules/profiles.smk"
# ---- the atlas and the report's claims pages (after the papers: they read the papers' tables) ----
include: "rules/atlas.smk"
include: "rules/report.smk"


rule all:
    """The whole DAG of the configured scale."""
    input:
        all_targets(),
    default_target: True
