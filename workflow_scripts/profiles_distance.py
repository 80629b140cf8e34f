from pointwise.logs import log_to
from pointwise.profiles.pipeline import distance_table

log_to(snakemake.log[0])
distance_table(snakemake.params.models, snakemake.params.reference, snakemake.params.reference,
               snakemake.output[0], n_grid=snakemake.params.n_grid, config=snakemake.config)
