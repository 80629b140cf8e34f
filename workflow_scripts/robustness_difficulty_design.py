from pointwise.logs import log_to
from pointwise.robustness.pipeline import write_difficulty_design

log_to(snakemake.log[0])
write_difficulty_design(snakemake.input.subsets, snakemake.input.data, snakemake.wildcards.dexp,
                        snakemake.params.spec, snakemake.params.kind, snakemake.output[0],
                        base_seed=snakemake.params.base_seed, config=snakemake.config)
