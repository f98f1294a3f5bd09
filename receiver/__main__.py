"""`python -m receiver` is `flamebot`."""

from receiver.cli import main

raise SystemExit(main())
