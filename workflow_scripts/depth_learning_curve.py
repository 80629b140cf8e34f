from pointwise.depth.pipeline import write_learning_curve
from pointwise.logs import log_to

log_to(snakemake.log[0])
write_learning_curve(list(snakemake.input.knn), list(snakemake.input.logits), snakemake.output[0],
                     config=snakemake.config)
