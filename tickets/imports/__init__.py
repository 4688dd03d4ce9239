"""Orders in from the seller centre's exports.

- ``layout`` and ``columns.toml``: which column holds what (the mapping is data);
- ``reading``: encodings (GBK/GB18030, UTF-8 with or without BOM) and streaming CSV rows;
- ``cleaning``: order numbers, phones, amounts, times, addresses, item attributes;
- ``orders``: the order file and the item file, upserted in chunks with bulk writes
  (``bulk``: COPY on PostgreSQL);
- ``refunds``: the refund export, through the ticket services;
- ``run``: one import run, all or nothing, also as a preview;
- ``batches``: upload, preview, confirm and discard, as the web pages use them.
"""
