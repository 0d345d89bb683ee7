"""intake: collects the materials sub-committees email in, answers each message, reports what is
missing."""

__version__ = "0.1.0"
