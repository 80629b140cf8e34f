from pointwise.figures import save
from pointwise.figures.runs import learning_curves
from pointwise.io import read_csv

save(learning_curves(read_csv(snakemake.input[0])), snakemake.output.pdf, snakemake.output.png)
