"""Tests of the notifier package: machine mail and the outbox."""
