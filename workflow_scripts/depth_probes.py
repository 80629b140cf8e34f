from pointwise.probes.run_probes import run_probes

run_probes(snakemake.input.ckpt, snakemake.input.data, snakemake.input.design, snakemake.output[0],
           int(snakemake.wildcards.seed), k=snakemake.params.k, tie=snakemake.params.tie,
           device=snakemake.config.get("device", "auto"), threads=snakemake.threads,
           config=snakemake.config, log_path=snakemake.log[0])
