from pointwise.depth.pipeline import write_run_tables
from pointwise.logs import log_to

log_to(snakemake.log[0])
write_run_tables(snakemake.input.knn, snakemake.input.logits, list(snakemake.output),
                 snakemake.params.settings, config=snakemake.config)
