"""Reports: what a researcher reads after decoding.

The CER with NIST sclite's numbers and alignments (score), an experiment's
RESULTS.md (results), the summary of a recipe's experiments (summary), the
tuning grid (tune_table) and the seed's two comparison tables (seed_tables).

May import: fileio, local.data. Nothing of espnet or torch.
"""
