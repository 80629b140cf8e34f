"""pointwise: per-example difficulty, reproduced from four papers and joined into one atlas.

The library holds every computation of the workflow; Snakemake rules only declare files and
workflow scripts only adapt ``snakemake.*`` objects to one call here.
"""

__version__ = "0.1.0"
