"""Reports: what a researcher reads after decoding.

The CER with NIST sclite's numbers and alignments (score, alignment) and its
error analysis (error_analysis), the comparison of systems with bootstrap
intervals and sctk's MAPSSWE test (compare, bootstrap, mapsswe), an experiment's
RESULTS.md (results), the summary of a recipe's experiments (summary, with
experiments, scored and significance), the figure of every SSL experiment's
layer weights (layer_weights_figure), the tuning grid (tune_table), the seed's
two comparison tables (seed_tables), and which report files a tool may replace
(owned).

May import: fileio, local.data. Nothing of espnet or torch.
"""
