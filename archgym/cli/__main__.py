"""``python -m archgym.cli``: the ``archgym`` command."""

import sys

from archgym.cli import main

sys.exit(main())
