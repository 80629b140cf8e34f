from pointwise.depth.pipeline import write_full_aggregates
from pointwise.logs import log_to

log_to(snakemake.log[0])
write_full_aggregates(list(snakemake.input.runs), dict(snakemake.output.items()), config=snakemake.config)
