"""Test helpers, not tests: real servers (Dovecot, a TCP proxy, aiosmtpd, PostgreSQL), the test
campaign's settings and mail, and the counts the long tests report."""
