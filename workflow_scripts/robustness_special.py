from pointwise.logs import log_to
from pointwise.robustness.pipeline import write_special

log_to(snakemake.log[0])
write_special(snakemake.input.acc, snakemake.input.fits, snakemake.params.logits, snakemake.params.sets,
              snakemake.output.csv, snakemake.output.h5, snakemake.params.settings, config=snakemake.config)
