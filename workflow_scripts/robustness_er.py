from pointwise.logs import log_to
from pointwise.robustness.pipeline import write_er

log_to(snakemake.log[0])
write_er(snakemake.input.acc, snakemake.input.fits, snakemake.input.model_er, dict(snakemake.output.items()),
         snakemake.params.settings, config=snakemake.config)
