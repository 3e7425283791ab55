"""`python -m local.seed_tables`: the command under its first name (local.report.seed_tables)."""

import sys

from local.report.seed_tables import main

if __name__ == "__main__":
    sys.exit(main())
