from pointwise.claims import claims_html
from pointwise.logs import log_to

log_to(snakemake.log[0])
claims_html(snakemake.input[0], snakemake.output[0], snakemake.params.title)
