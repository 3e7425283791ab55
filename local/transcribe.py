"""`python -m local.transcribe`: transcribe audio files with a packed model.

    python -m local.transcribe MODEL AUDIO [AUDIO ...] [--format text|json|srt|vtt]
        [--output_dir DIR] [--config decode.yaml] [--beam_size 10] [--lm_weight 0.3] ...

MODEL is stage 10's archive (exp/asr_<tag>/packed/*.zip) or the folder it unzips
to. What it does, the output formats, the decoding options and their checks, bad
input and the exit status: local/README.md, "Transcribing your own audio". The
engine behind it is zh_ssl_asr.Transcriber (local.decode.transcriber), with the
same options (local.decode.options).
"""

import argparse
import contextlib
import logging
import os
import sys
import warnings
from pathlib import Path

from local.decode import options
from local.decode.transcript_formats import EXTENSIONS, FORMATS, printable_source, render


def get_parser():
    parser = argparse.ArgumentParser(
        prog="python -m local.transcribe",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", help="packed model: stage 10's .zip, or the folder it unzips to")
    parser.add_argument("audio", nargs="+", help="audio files")
    parser.add_argument("--format", choices=FORMATS, default="text", help="[%(default)s]")
    parser.add_argument("--output_dir", help="one output file per audio file here (else stdout)")
    parser.add_argument("--force", action="store_true", help="replace files in --output_dir")
    parser.add_argument(
        "--config", help="decode config whose keys replace the packed config's (only those)"
    )
    for key, default in (("max_seconds", 20.0), ("pad_seconds", 0.0), ("batch_size", 16)):
        option = options.TRANSCRIBER[key]
        parser.add_argument(
            f"--{key}", type=options.number, default=default, help=f"{option.help} [%(default)s]"
        )
    parser.add_argument("--vad", choices=options.TRANSCRIBER["vad"].kind, default="silero")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ... [%(default)s]")
    options.add_arguments(parser)
    return parser


def checked_options(args, parser):
    """{search option: value} given on the command line; every option checked by the
    rules the Python API uses (local.decode.options), a bad one a usage error."""
    try:
        options.check_transcriber(
            args.max_seconds, args.pad_seconds, args.vad, label=options.cli_label
        )
        options.check({"batch_size": args.batch_size}, options.TRANSCRIBER, options.cli_label)
        options.check_device(args.device, options.cli_label)
        return options.given_search_options(args)
    except options.OptionError as e:
        parser.error(str(e))


def output_paths(args, parser):
    """{audio index: output file} for --output_dir (checked before decoding)."""
    if args.output_dir is None:
        if args.format in ("srt", "vtt") and len(args.audio) > 1:
            parser.error(f"--format {args.format} with several audio files needs --output_dir")
        return {}
    out_dir = Path(args.output_dir)
    if os.path.lexists(out_dir) and not out_dir.is_dir():
        parser.error(f"--output_dir {out_dir}: exists and is not a folder")
    paths, seen = {}, {}
    inputs = {Path(a).resolve() for a in args.audio}
    for index, audio in enumerate(args.audio):
        path = out_dir / (Path(audio).stem + EXTENSIONS[args.format])
        if path in seen:
            parser.error(f"{args.audio[seen[path]]} and {audio} would both be written to {path}")
        if path.resolve() in inputs:
            parser.error(f"{path}: is one of the audio files; choose another --output_dir")
        if path.is_dir():
            parser.error(f"{path}: is a folder; not replaced (choose another --output_dir)")
        if os.path.lexists(path) and not args.force:
            parser.error(f"{path}: exists; not replaced (use --force, or another --output_dir)")
        seen[path] = index
        paths[index] = path
    return paths


def make_output_dir(args, parser):
    """Make --output_dir before the decoding (a folder that cannot be made fails now);
    the topmost folder made here (None when it existed), removed again if the run
    ends without writing into it."""
    from fileio.atomic import OutputError, make_folder

    if args.output_dir is None or os.path.isdir(args.output_dir):
        return None
    out_dir = Path(os.path.abspath(args.output_dir))
    top = next(p for p in reversed([out_dir, *out_dir.parents]) if not os.path.lexists(p))
    try:
        make_folder(out_dir)
    except OutputError as e:
        parser.error(f"--output_dir {e}")
    except OSError as e:
        parser.error(f"--output_dir {args.output_dir}: cannot make the folder ({e.strerror})")
    return top


def remove_empty(top):
    """Remove the folder `top` made by this run when nothing was written under it."""
    if top is None:
        return
    for folder, _, _ in sorted(os.walk(top), key=lambda w: -len(w[0])):
        if os.listdir(folder):  # a file, or a folder left above
            return
        os.rmdir(folder)


def load(args, search_options):
    """The Transcriber, or a one-line error and exit status 1."""
    from local.decode.packed_model import PackError, load_packed
    from local.decode.transcriber import Transcriber

    try:
        # ESPnet prints notices and warnings while it loads a model
        with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            speech2text = load_packed(
                args.model,
                config=args.config,
                device=args.device,
                label=options.cli_label,
                **search_options,
            )
            return Transcriber(
                speech2text, vad=args.vad, max_seconds=args.max_seconds,
                pad_seconds=args.pad_seconds,
            )  # fmt: skip
    except (PackError, options.OptionError) as e:
        sys.exit(f"transcribe: error: {e}")
    except Exception as e:  # a damaged model file, an unknown device, ...
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        sys.exit(
            f"transcribe: error: {args.model}: cannot load the model: {type(e).__name__}: {first}"
        )


def main(argv=None):
    from fileio.atomic import terminate_cleanly

    terminate_cleanly()  # SIGTERM during the unpacking removes the half-unpacked folder
    try:
        return transcribe_files(argv)
    except KeyboardInterrupt:
        print("transcribe: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `| head`: the reader has gone
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return 141


def transcribe_files(argv=None):
    parser = get_parser()
    args = parser.parse_args(argv)
    search_options = checked_options(args, parser)
    paths = output_paths(args, parser)
    made = make_output_dir(args, parser)
    logging.basicConfig(level=logging.WARNING, format="transcribe: %(message)s")
    try:
        return write_transcripts(args, search_options, paths)
    finally:
        remove_empty(made)  # the model failed, every file failed, or an interruption


def write_transcripts(args, search_options, paths):
    """Transcribe args.audio, write the outputs; the exit status."""
    transcriber = load(args, search_options)
    failed = 0
    from fileio.atomic import write_text

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = transcriber.iter_transcribe(args.audio, batch_size=args.batch_size)
        for index, result in enumerate(results):
            for note in result.notes:
                print(f"{printable_source(result.source)}: note: {note}", file=sys.stderr)
            if result.error is not None:
                failed += 1
                print(f"{printable_source(result.source)}: ERROR {result.error}", file=sys.stderr)
                if args.format != "json":
                    continue
            text = render(result, args.format)
            if index in paths:
                if result.error is None:
                    try:
                        write_text(paths[index], text if text.endswith("\n") else text + "\n")
                    except OSError as e:
                        failed += 1
                        print(f"{paths[index]}: ERROR cannot write ({e.strerror})", file=sys.stderr)
            else:
                print(text, end="" if text.endswith("\n") else "\n", flush=True)
    if failed:
        print(f"{failed} of {len(args.audio)} files failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
