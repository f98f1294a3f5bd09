"""`python -m receiver` is `flamebot`."""

from receiver.commands.cli import main

raise SystemExit(main())
