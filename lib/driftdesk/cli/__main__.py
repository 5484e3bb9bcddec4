"""``python -m driftdesk.cli``: the same as the ``driftdesk`` command."""

import sys

from driftdesk.cli import main

sys.exit(main())
