"""Shared by the service benchmarks: real Dovecot and aiosmtpd from the test machinery, and a
config."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # a benchmark runs as a script from benchmarks/
    sys.path.insert(0, str(ROOT))

from tests.helpers.campaign import (  # noqa: E402
    DEADLINE,
    INTAKE,
    INTAKE_ENV,
    UNITS,
    submission,
    write_config,
)
from tests.helpers.servers import DovecotServer  # noqa: E402
from tests.helpers.smtpserver import SmtpServer  # noqa: E402

__all__ = [
    "DEADLINE",
    "INTAKE",
    "INTAKE_ENV",
    "DovecotServer",
    "SmtpServer",
    "UNITS",
    "submission",
    "write_config",
    "percentile",
]


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of ``values`` (0 < fraction <= 1)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))]
