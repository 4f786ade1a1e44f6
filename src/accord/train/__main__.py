"""``python -m accord.train STAGE ...``: the ``accord train`` group (see
:mod:`accord.train._cli`), kept for ``accelerate launch -m accord.train``."""

import sys

from accord.train._cli import main

if __name__ == "__main__":
    sys.exit(main())
