"""`python -m adcompile`: see adcompile.cli."""

import sys

from .cli import main

sys.exit(main())
