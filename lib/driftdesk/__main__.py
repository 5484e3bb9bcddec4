"""``python -m driftdesk``: the same as the ``driftdesk`` command (and ``python -m driftdesk.cli``)."""

import sys

from driftdesk.cli import main

if __name__ == "__main__":
    sys.exit(main())
