from pointwise.depth.pipeline import write_accuracy_table
from pointwise.logs import log_to

log_to(snakemake.log[0])
write_accuracy_table({tuple(k.split("/")): v for k, v in snakemake.params.runs.items()}, snakemake.output[0],
                     config=snakemake.config)
