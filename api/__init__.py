"""The API for the shops' ERPs and scripts (issue 16): orders and refunds in, tickets and money
out, outgoing webhooks, under ``/api/v1/``.

- ``models``: integration tokens (only a hash kept), the record of every call, idempotent
  batches, webhook endpoints, deliveries and their attempts;
- ``scopes``: what a token may do, and the role permissions each scope needs besides;
- ``authentication``, ``permissions``, ``throttling``, ``parsers``, ``errors``,
  ``middleware``: the door (a bearer token, its scope and shops on every object, rate and
  size limits, one JSON error shape in the user's language);
- ``services``: issuing and revoking tokens, the batches (through ``tickets.imports``, the
  same code as the CSV import), recording calls and personal-data reads;
- ``selectors``: what a token may read (the desk's selectors, narrowed to its shops);
- ``webhooks`` and ``tasks``: events to an ERP, signed, after the commit, retried by Celery;
- ``views``, ``serializers``, ``pagination``, ``urls``, ``admin``: the HTTP side.

``api`` imports ``tickets`` and ``finance_exports``; neither imports ``api``.
"""
