"""Whole-service proofs: real servers end to end, kill points and faults, the running service,
PostgreSQL with two processes, hostile mail, the browser, and fuzzing every parser."""
