from pointwise.depth.hinge import probe_runs

probe_runs(snakemake.params.runs, k=snakemake.params.k, tie=snakemake.params.tie,
           device=snakemake.config.get("device", "auto"), threads=snakemake.threads,
           config=snakemake.config, log_path=snakemake.log[0])
