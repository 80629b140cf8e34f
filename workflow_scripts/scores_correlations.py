from pointwise.logs import log_to
from pointwise.scores.analyses import write_correlations

log_to(snakemake.log[0])
write_correlations(snakemake.input.cube, snakemake.input.agr, snakemake.input.ret,
                   dict(snakemake.output.items()), snakemake.params.settings, config=snakemake.config)
