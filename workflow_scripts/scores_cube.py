from pointwise.logs import log_to
from pointwise.scores.pipeline import write_score_cube

log_to(snakemake.log[0])
write_score_cube(list(snakemake.input), snakemake.output.cube, snakemake.output.mean, config=snakemake.config)
