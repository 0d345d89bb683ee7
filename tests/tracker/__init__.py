"""Tests of the tracker package: identification, status, migrations and the staff reports."""
