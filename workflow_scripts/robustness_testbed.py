from pointwise.logs import log_to
from pointwise.robustness.pipeline import write_testbed

log_to(snakemake.log[0])
write_testbed(snakemake.params.logits, snakemake.params.sets, snakemake.output.h5, snakemake.output.csv,
              snakemake.params.settings, config=snakemake.config)
