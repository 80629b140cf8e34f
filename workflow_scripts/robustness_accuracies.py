from pointwise.logs import log_to
from pointwise.robustness.pipeline import write_run_accuracies

log_to(snakemake.log[0])
write_run_accuracies(snakemake.params.runs, snakemake.params.sets, snakemake.output[0], config=snakemake.config)
