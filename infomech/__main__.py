"""``python -m infomech`` runs the command line (Ctrl-C while starting up exits 130 too)."""

import sys

try:
    from .cli import main
except KeyboardInterrupt:  # pragma: no cover - interrupted during the imports
    print("infomech: interrupted (Ctrl-C); nothing was written", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
