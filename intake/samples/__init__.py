"""Sample builders for the demo and the tests: realistic mail and materials as bytes.

One module per kind of sample, imported by name (``from intake.samples import documents``):

- ``mail``: RFC 5322 messages as Outlook, Foxmail, QQ Mail, 163 and old clients send them;
- ``documents``: the summary .docx, the results table (.xlsx/.xls), the roster, prose, photos;
- ``scans``: image-only PDF pages, JPG/PNG pages with a seal, a born-digital text PDF;
- ``archives``: zip (GBK names), RAR 4 and 7z;
- ``campaign``: the demo campaign (config.toml and a Maildir) that ``intake demo`` writes.

The dependencies go one way: ``campaign`` uses the others, ``documents`` uses ``scans``.
"""
