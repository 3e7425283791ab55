"""Every `python -m` command named in a README answers --help."""

from conftest import ROOT, run


def test_commands_named_in_the_readmes_answer_help():
    import re

    readmes = [
        ROOT / "README.md",
        *ROOT.glob("*/README.md"),
        *ROOT.glob("egs2/*/asr1/README.md"),
        *ROOT.glob("local/README.md"),
    ]
    modules = set()
    for readme in readmes:
        modules |= set(
            re.findall(
                r"python -m ((?:local|frontend|zh_ssl_asr)[\w.]*)",
                readme.read_text(encoding="utf-8"),
            )
        )
    assert {
        "local.transcribe",
        "local.summary",
        "local.seed_tables",
        "local.jobs",
        "frontend.extract",
        "frontend.convert_fairseq",
        "frontend.layer_weights",
        "frontend.make_tiny_models",
    } <= modules
    for module in sorted(modules):
        proc = run(["python", "-m", module, "--help"], check=False)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, module
        assert proc.stdout.strip(), module
