"""``python -m clustering``: see :mod:`clustering.cli`."""

import sys

from clustering.cli import main

sys.exit(main())
