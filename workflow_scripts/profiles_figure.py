from pointwise.figures.profiles import draw

draw(snakemake.params.figure, dict(snakemake.input.items()), snakemake.output.pdf, snakemake.output.png,
     settings=snakemake.params.settings)
