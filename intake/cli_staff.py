"""Staff commands beyond the core pipeline (the dashboard and the exports) register here."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from .config import Settings


def add_staff_commands(commands: argparse._SubParsersAction,
                       settings_of: Callable[[argparse.Namespace], Settings]) -> None:
    """Add the staff commands to the ``intake`` parser; ``settings_of`` loads the config of a call."""
