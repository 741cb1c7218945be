"""``python -m bcgc.cli``: the same as ``bcgc``."""

import sys

from . import main

sys.exit(main())
