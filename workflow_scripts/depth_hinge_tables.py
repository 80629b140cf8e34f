from pointwise.depth.hinge import write_hinge_tables
from pointwise.logs import log_to

log_to(snakemake.log[0])
write_hinge_tables(snakemake.params.runs, dict(snakemake.output.items()), config=snakemake.config)
