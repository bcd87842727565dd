"""``python -m gradviz`` behaves exactly like the ``gradviz`` console script."""

import sys

from gradviz.cli import main

if __name__ == "__main__":
    sys.exit(main())
