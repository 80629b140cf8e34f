from pointwise.logs import log_to
from pointwise.scores.analyses import write_bias

log_to(snakemake.log[0])
write_bias(dict(zip(snakemake.params.models, snakemake.input.cubes)), snakemake.input.params,
           snakemake.input.examples, dict(snakemake.output.items()), snakemake.params.settings,
           config=snakemake.config)
