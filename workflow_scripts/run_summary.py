from pointwise.logs import log_to
from pointwise.train.summary import write_run_tables

log_to(snakemake.log[0])
write_run_tables(snakemake.input.logits, snakemake.output.summary, snakemake.output.curves,
                 config=snakemake.config)
