from pointwise.logs import log_to
from pointwise.scores.pipeline import write_param_counts

log_to(snakemake.log[0])
write_param_counts(dict(zip(snakemake.params.models, snakemake.input)), snakemake.output[0],
                   config=snakemake.config)
