from pointwise.depth.pipeline import write_example_images
from pointwise.logs import log_to

sm = snakemake
log_to(sm.log[0])
write_example_images(sm.input.per_example, sm.input.by_depth, sm.input.data, sm.output[0], sm.params.settings,
                     config=sm.config)
