"""`python -m local.transcribe`: the command under its first name (local.decode.transcribe)."""

import sys

from local.decode.transcribe import main

if __name__ == "__main__":
    sys.exit(main())
