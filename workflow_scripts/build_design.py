from pointwise.designs import build_design
from pointwise.provenance import provenance

build_design(snakemake.wildcards.experiment, snakemake.params.spec, snakemake.input.data,
             snakemake.output[0], base_seed=snakemake.params.base_seed,
             provenance=provenance(snakemake.config, inputs=[snakemake.input.data]))
