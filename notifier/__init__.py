"""Replies to senders: receipts and correction requests, the outbox and sending it."""
