from pointwise.logs import log_to
from pointwise.profiles.pipeline import theory_from_settings

log_to(snakemake.log[0])
theory_from_settings(snakemake.input[0], snakemake.params.settings, snakemake.output.table,
                     snakemake.output.curves, config=snakemake.config)
