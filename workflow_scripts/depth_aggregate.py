from pointwise.depth.pipeline import write_aggregates
from pointwise.logs import log_to

log_to(snakemake.log[0])
write_aggregates(list(snakemake.input.runs), list(snakemake.input.knn), dict(snakemake.output.items()),
                 snakemake.params.settings, config=snakemake.config)
