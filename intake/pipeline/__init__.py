"""The pipeline: raw bytes stored first, then the named stages (``stages.STAGES``) over each
message, its receipt (``receipt``) and the crash points the fault tests use (``faults``)."""

from __future__ import annotations

from .driver import Outcome, Pipeline, load_branch_roster

__all__ = ["Outcome", "Pipeline", "load_branch_roster"]
