"""The one error a command raises for a mistake on the command line (``main`` prints it as one
line)."""

from __future__ import annotations


class UserError(Exception):
    """A mistake on the command line, shown as one line."""
