"""The registers' pages (issue 5): an index, then per register a filtered list, a form to
write a row, a detail page and POST-only actions.

``base`` holds the list / create / detail shape once; each register's module (``losses``,
``quality``, ``wrong_shipments``, ``interventions``, ``invoices``, ``reviews``, ``handover``,
``vips``) fills it in with its rows, filter, form and service. Lists show order numbers and
nicknames, never a buyer's phone or address.
"""
