from pointwise.logs import log_to
from pointwise.robustness.pipeline import write_phaseout_design

log_to(snakemake.log[0])
write_phaseout_design(snakemake.input.examples, snakemake.input.phaseout, snakemake.input.data,
                      snakemake.wildcards.pexp, snakemake.params.spec, snakemake.params.n_final,
                      snakemake.output[0], base_seed=snakemake.params.base_seed, config=snakemake.config)
