from pointwise.logs import log_to
from pointwise.train.summary import write_run_summary

log_to(snakemake.log[0])
write_run_summary(snakemake.input.logits, snakemake.output[0], config=snakemake.config)
