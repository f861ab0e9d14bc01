"""`python -m secrets_layout`: the `secrets-layout` command."""

import sys

from secrets_layout.cli import main

sys.exit(main())
