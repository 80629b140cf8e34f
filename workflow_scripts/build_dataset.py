from pointwise.data.build import build_dataset

build_dataset(snakemake.wildcards.dataset, snakemake.params.spec, snakemake.output[0],
              parent_path=snakemake.input.parent[0] if snakemake.input.parent else None,
              config=snakemake.config, log_path=snakemake.log[0])
