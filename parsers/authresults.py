"""Reading the receiving server's Authentication-Results (RFC 8601) to spot a forged sender."""

from __future__ import annotations

import re

_RESULT = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*([a-z]+)", re.IGNORECASE)


def sender_verdict(auth_results: list[str], authserv_id: str) -> str:
    """``fail``, ``pass`` or ``none`` for the sender, from the topmost header of our own server.

    Only the first header whose authserv-id is ``authserv_id`` is trusted (the receiving server
    puts its own on top; anything lower could have been written by the sender). The sender
    fails when DMARC fails, or SPF fails (hard or soft) or DKIM fails without any pass.
    """
    wanted = authserv_id.strip().lower()
    for header in auth_results:
        served_by = header.split(";", 1)[0].split()
        if not served_by or served_by[0].lower() != wanted:
            continue
        results: dict[str, set[str]] = {}
        for method, result in _RESULT.findall(header.split(";", 1)[1] if ";" in header else ""):
            results.setdefault(method.lower(), set()).add(result.lower())
        if "fail" in results.get("dmarc", set()):
            return "fail"
        if any("pass" in results.get(m, set()) for m in ("dkim", "spf", "dmarc")):
            return "pass"
        if results.get("spf", set()) & {"fail", "softfail"} or "fail" in results.get("dkim", set()):
            return "fail"
        return "none"
    return "none"
