"""``python -m cratonclient.shell``: the ``craton`` command without the console script."""

import sys

from cratonclient.shell.main import main

sys.exit(main())
