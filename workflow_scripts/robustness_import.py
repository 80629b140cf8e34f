from pointwise.logs import log_to
from pointwise.robustness.pipeline import write_import

log_to(snakemake.log[0])
write_import(snakemake.input[0], snakemake.params.spec, snakemake.output.h5, snakemake.output.csv,
             snakemake.params.settings, config=snakemake.config)
