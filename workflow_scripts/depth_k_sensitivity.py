from pointwise.depth.pipeline import write_k_sensitivity
from pointwise.logs import log_to

log_to(snakemake.log[0])
write_k_sensitivity(list(snakemake.input), dict(snakemake.output.items()), snakemake.params.settings,
                    config=snakemake.config)
