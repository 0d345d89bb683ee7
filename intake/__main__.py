"""Allows ``python -m intake``."""

from .cli import main

raise SystemExit(main())
