from pointwise.depth.pipeline import write_op_curves
from pointwise.logs import log_to

log_to(snakemake.log[0])
write_op_curves(snakemake.params.files, snakemake.output[0],
                config=snakemake.config)
