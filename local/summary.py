"""`python -m local.summary`: the command under its first name (local.report.summary)."""

import sys

from local.report.summary import main

if __name__ == "__main__":
    sys.exit(main())
