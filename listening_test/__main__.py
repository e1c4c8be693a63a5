"""``python -m listening_test prepare | simulate`` (see :mod:`listening_test.cli`)."""
import sys

from listening_test.cli import main

sys.exit(main())
