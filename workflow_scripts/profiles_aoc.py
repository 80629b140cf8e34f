from pointwise.logs import log_to
from pointwise.profiles.pipeline import aoc_table

log_to(snakemake.log[0])
aoc_table(list(snakemake.input.a), list(snakemake.input.b), snakemake.params.evalset,
          snakemake.params.reference, snakemake.output[0], n_grid=snakemake.params.n_grid,
          seed=snakemake.params.seed, config=snakemake.config)
