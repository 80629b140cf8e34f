from pointwise.logs import log_to
from pointwise.profiles.pipeline import summary_tables

log_to(snakemake.log[0])
keys = snakemake.params.names
summary_tables(dict(zip(keys, snakemake.input.scores)), dict(zip(keys, snakemake.input.profiles)),
               snakemake.params.settings, snakemake.output.fractions, snakemake.output.survival,
               snakemake.output.summary, config=snakemake.config)
