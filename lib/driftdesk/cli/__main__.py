"""``python -m driftdesk.cli``: the same as the ``driftdesk`` command."""

import sys

from driftdesk.cli import main

if __name__ == "__main__":
    sys.exit(main())
