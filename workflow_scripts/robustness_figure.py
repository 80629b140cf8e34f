from pointwise.figures.robustness import draw

draw(snakemake.params.figure, dict(snakemake.input.items()), snakemake.output.pdf, snakemake.output.png,
     snakemake.params.draw)
