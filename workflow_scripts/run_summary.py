from pointwise.train.summary import write_run_summary

write_run_summary(snakemake.input.logits, snakemake.output[0], config=snakemake.config)
