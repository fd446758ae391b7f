"""`python -m bot.cli`: the same as the `switchboard` script."""

import sys

from bot.cli import main

sys.exit(main())
