"""``python -m gesturemap ...``: the same as the ``gesturemap`` command."""

import sys

from .cli import main

sys.exit(main())
