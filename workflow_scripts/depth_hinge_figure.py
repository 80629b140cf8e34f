from pointwise.figures.depth_hinge import draw
from pointwise.logs import log_to

log_to(snakemake.log[0])
draw(snakemake.params.figure, snakemake.input[0], snakemake.output.pdf, snakemake.output.png)
