from pointwise.depth.pipeline import write_run_table
from pointwise.logs import log_to

log_to(snakemake.log[0])
write_run_table(snakemake.input.knn, snakemake.input.logits, snakemake.output[0], snakemake.params.settings,
                config=snakemake.config)
