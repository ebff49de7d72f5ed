"""``python -m searchlib``."""

import sys

from searchlib.cli import main

sys.exit(main())
