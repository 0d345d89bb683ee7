"""Tests of the intake package: the command line, config, secrets, IMAP source, samples, web."""
