from pointwise.logs import log_to
from pointwise.robustness.claims import write_robustness_claims

log_to(snakemake.log[0])
write_robustness_claims(dict(snakemake.input.items()), snakemake.output[0], snakemake.params.settings,
                        config=snakemake.config)
