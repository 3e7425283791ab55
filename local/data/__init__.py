"""Data: Kaldi data directories and what the data stages do to them.

Data directories (datadir), speed perturbation (speed_perturb, stage 2), the audio
dump and its no-dump link (dump_audio, stage 3), reading segments of long
recordings (segments_reader), splitting tables into jobs (split_keys), importing
another recipe's test set (import_test_set), the transcript normalization of both
corpora (text_norm) and the LM-text check (check_lm_text, stage 5).

May import: fileio. Nothing of espnet at import time.
"""
