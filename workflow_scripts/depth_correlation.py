from pointwise.depth.pipeline import write_correlations
from pointwise.logs import log_to

log_to(snakemake.log[0])
write_correlations(snakemake.params.archs, snakemake.output[0], snakemake.params.settings, config=snakemake.config)
