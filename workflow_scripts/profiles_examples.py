from pointwise.logs import log_to
from pointwise.profiles.figure_tables import example_tables

log_to(snakemake.log[0])
keys = snakemake.params.names
example_tables(dict(zip(keys, snakemake.input.scores)), dict(zip(keys, snakemake.input.profiles)),
               snakemake.params.data, snakemake.params.settings, snakemake.output.examples,
               snakemake.output.profiles, neg_indices=(snakemake.input.neg[0] if snakemake.input.neg else None),
               neg_profiles=(snakemake.input.neg_profiles[0] if snakemake.input.neg_profiles else None),
               config=snakemake.config)
