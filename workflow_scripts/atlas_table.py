from pointwise.atlas.build import write_atlas
from pointwise.logs import log_to

log_to(snakemake.log[0])
write_atlas(snakemake.wildcards.atlas, snakemake.input.dataset, snakemake.params.sources, snakemake.output[0],
            config=snakemake.config)
