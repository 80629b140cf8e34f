from pointwise.data.build import build_dataset
from pointwise.logs import log_to

log_to(snakemake.log[0])
build_dataset(snakemake.wildcards.dataset, snakemake.params.spec, snakemake.output[0],
              parent_path=snakemake.input.parent[0] if snakemake.input.parent else None,
              config=snakemake.config)
