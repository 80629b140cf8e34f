from pointwise.logs import log_to
from pointwise.robustness.pipeline import write_zeroshot

log_to(snakemake.log[0])
write_zeroshot(snakemake.params.logits, snakemake.input.fits, snakemake.output.csv, snakemake.output.h5,
               snakemake.params.settings, config=snakemake.config)
