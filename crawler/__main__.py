"""``python -m crawler`` is the ``seedtrack`` command."""

import sys

from crawler.cli import main

sys.exit(main())
