"""Checks as named rules: the registry (``registry``) and the rules of each item, one module each.

Importing this package registers every rule; ``judge(finding, ctx)`` applies them to a finding,
``run_checks(scope, facts, ctx)`` to any facts (the message's own included).
"""

from __future__ import annotations

from . import files, message, scan, summary, table  # noqa: F401 - importing registers the rules
from .judge import judge
from .registry import CHECKS, FILE, MESSAGE, Check, CheckContext, check, checks_for, run_checks

__all__ = [
    "CHECKS",
    "FILE",
    "MESSAGE",
    "Check",
    "CheckContext",
    "check",
    "checks_for",
    "judge",
    "run_checks",
]
