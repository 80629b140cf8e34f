from pointwise.logs import log_to
from pointwise.robustness.pipeline import write_per_example

log_to(snakemake.log[0])
write_per_example(list(snakemake.input), dict(snakemake.output.items()), snakemake.params.settings,
                  config=snakemake.config)
