from pointwise.designs import build_design
from pointwise.logs import log_to

log_to(snakemake.log[0])
build_design(snakemake.wildcards.experiment, snakemake.params.spec, snakemake.input.data,
             snakemake.output[0], base_seed=snakemake.params.base_seed, config=snakemake.config)
