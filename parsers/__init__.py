"""Pure parsers: bytes of one message or attachment in, typed findings out.

Nothing here touches a database, the network or the clock, and nothing here imports
``intake``, ``tracker`` or ``notifier``.
"""
