"""Reports: what a researcher reads after decoding.

The CER with NIST sclite's numbers and alignments (score, alignment), its
error analysis (error_analysis) and the pinyin syllable error rate beside it
(pinyin), the comparison of systems with bootstrap intervals and sctk's MAPSSWE
test (compare, bootstrap, mapsswe), an experiment's RESULTS.md (results) and its
entry in the recipe's RESULTS.md (results_entry), the summary of a recipe's
experiments (summary, with experiments, scored and significance), the figure of
every SSL experiment's layer weights (layer_weights_figure), the tuning grid
(tune_table), the seed's comparison tables, one per recipe whose
local/seed_table.yaml describes one (seed_tables), and which report files a tool
may replace (owned).

May import: fileio, local.data. Nothing of espnet or torch.
"""
