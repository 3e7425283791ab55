"""Shared tools of the recipes (egs2/*/asr1): data directories, speed perturbation,
audio dump, job running, scoring and reports. Each module with a command line runs
as `python -m local.<module> --help`."""
