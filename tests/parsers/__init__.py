"""Tests of the parsers package: one file's bytes to a finding."""
