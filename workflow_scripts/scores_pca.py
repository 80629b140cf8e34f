from pointwise.logs import log_to
from pointwise.scores.analyses import write_pca

log_to(snakemake.log[0])
write_pca(snakemake.input.cube, snakemake.input.agr, snakemake.input.ret, dict(snakemake.output.items()),
          config=snakemake.config)
