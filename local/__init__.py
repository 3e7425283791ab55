"""The recipes' tools, by concern (each sub-package says what it may import):

- local.data: data directories, speed perturbation, audio dump, text normalization;
- local.report: scoring (sclite's numbers), RESULTS.md, summaries and tables;
- local.runtime: running jobs (local, Slurm) and espnet2 with our additions;
- local.decode: batched beam search, decoding jobs, LM rescoring, transcription.

Layers, lowest first: fileio (files and audio) < frontend (the SSL frontend) <
local.data < local.report, local.runtime < local.decode. A module imports only
from its own layer or lower ones. The shell scripts here (asr.sh, the stage driver,
and the scripts it sources) call these modules with `python -m local.<package>.<module>`.
The modules directly in local/ are user commands: `python -m local.transcribe`
(transcription, under its one name) and forwarders that keep commands of the
packages under their first names (`python -m local.summary`, ...).
"""
