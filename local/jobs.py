"""`python -m local.jobs`: the command under its first name (local.runtime.jobs)."""

import sys

from local.runtime.jobs import main

if __name__ == "__main__":
    sys.exit(main())
