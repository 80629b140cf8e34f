from pointwise.logs import log_to
from pointwise.robustness.pipeline import write_fit

log_to(snakemake.log[0])
write_fit(snakemake.input[0], dict(snakemake.output.items()), snakemake.params.settings, config=snakemake.config)
