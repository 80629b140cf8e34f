from pointwise.depth.pipeline import write_depth_claims
from pointwise.logs import log_to

log_to(snakemake.log[0])
write_depth_claims(dict(zip(snakemake.params.names, snakemake.input)), snakemake.output[0],
                   snakemake.params.settings, config=snakemake.config)
