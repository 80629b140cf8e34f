from pointwise.logs import log_to
from pointwise.scores.pipeline import write_agr

log_to(snakemake.log[0])
write_agr(list(snakemake.input), snakemake.output[0], snakemake.params.settings, config=snakemake.config)
