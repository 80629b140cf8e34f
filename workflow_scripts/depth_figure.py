from pointwise.figures.depth import draw

keys = getattr(snakemake.params, "names", None)
inputs = dict(zip(keys, snakemake.input)) if keys else dict(snakemake.input.items())
wc = snakemake.wildcards
title = " / ".join(v for k, v in wc.items() if k != "figure")         # experiment and/or arch
draw(wc.figure, inputs, snakemake.output.pdf, snakemake.output.png, bins=snakemake.params.bins, title=title)
