"""Decoding: from a trained model to hypotheses.

ESPnet's beam search over many utterances at once (batch_beam_search, with the CTC
prefix scores of batch_ctc_prefix), the decoding job built on it (batch_inference),
merging the jobs' outputs (merge_decode), their real-time factor (rtf), N-best LM
rescoring (lm_rescore). Transcribing any audio with a packed model: opening packs
(packed_model), speech segments (vad: silero-vad, an energy split as fallback),
character times by CTC forced alignment (align), the engine behind the Python API
(transcriber; its options: options), output formats (transcript_formats); the
command is local.transcribe.

May import: fileio, frontend, local.data, local.runtime.
"""
