from pointwise.logs import log_to
from pointwise.profiles.figure_tables import global_tables

log_to(snakemake.log[0])
global_tables(snakemake.params.models, snakemake.params.settings, snakemake.output.acc,
              snakemake.output.line, config=snakemake.config)
