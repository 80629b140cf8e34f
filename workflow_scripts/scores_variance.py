from pointwise.logs import log_to
from pointwise.scores.analyses import write_variance

log_to(snakemake.log[0])
write_variance(snakemake.input[0], snakemake.output[0], snakemake.params.settings, config=snakemake.config)
