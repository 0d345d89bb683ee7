"""The campaign's records: sub-committees, messages, item versions, status and reports."""
