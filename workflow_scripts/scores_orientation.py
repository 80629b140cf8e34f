from pointwise.logs import log_to
from pointwise.scores.pipeline import write_orientation

log_to(snakemake.log[0])
write_orientation(snakemake.output[0], config=snakemake.config)
