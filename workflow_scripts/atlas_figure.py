from pointwise.figures import atlas, save
from pointwise.io import read_csv
from pointwise.logs import log_to

log_to(snakemake.log[0])
tables = {name: read_csv(path) for name, path in snakemake.input.items()}
fig = atlas.draw(snakemake.wildcards.atlas_figure, tables, snakemake.params.top_fraction)
save(fig, snakemake.output.pdf, snakemake.output.png)
