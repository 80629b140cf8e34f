"""The per-example difficulty atlas: the four papers' measures on the same examples (one table per
dataset) and the analyses across them. ``lenses`` reads each paper's tables, ``build`` joins them
and writes the tables, ``stats`` holds the statistics."""
