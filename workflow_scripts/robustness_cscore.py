from pointwise.logs import log_to
from pointwise.robustness.pipeline import write_cscore

log_to(snakemake.log[0])
write_cscore(snakemake.input.design, snakemake.params.logits, dict(snakemake.output.items()),
             snakemake.params.settings, config=snakemake.config)
