from pointwise.logs import log_to
from pointwise.robustness.pipeline import write_testbed_examples

log_to(snakemake.log[0])
write_testbed_examples(snakemake.input[0], snakemake.output[0], config=snakemake.config)
