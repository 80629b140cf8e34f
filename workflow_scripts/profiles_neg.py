from pointwise.logs import log_to
from pointwise.profiles.pipeline import neg_tables

log_to(snakemake.log[0])
neg_tables(snakemake.params.models, snakemake.params.settings, snakemake.output.indices,
           snakemake.output.aol, snakemake.output.curves, config=snakemake.config)
