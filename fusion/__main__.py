"""``python -m fusion``: see :mod:`fusion.cli`."""
import sys

from fusion.cli import main

if __name__ == "__main__":  # not when a worker process (the seed study's --jobs) imports it
    sys.exit(main())
