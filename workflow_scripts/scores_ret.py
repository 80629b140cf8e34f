from pointwise.logs import log_to
from pointwise.scores.pipeline import write_ret

log_to(snakemake.log[0])
write_ret(list(snakemake.input.children), list(snakemake.input.parents), snakemake.output[0],
          snakemake.params.settings, config=snakemake.config)
