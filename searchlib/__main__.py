"""``python -m searchlib``."""

import sys

from searchlib.app.cli import main

sys.exit(main())
