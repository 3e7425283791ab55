"""The lowest layer: files every other part of the project reads and writes.

- fileio.atomic: outputs written under a temporary name and moved into place;
- fileio.audio: reading audio (soundfile), resampling and speed change (soxr);
- fileio.kaldi_table: Kaldi `<key> <value>` tables (wav.scp, text, utt2spk, ...);
- fileio.yaml_file: YAML configs, with one-line errors naming the file and line.

Imports nothing of the project: frontend/ and local/ both build on it.
"""
