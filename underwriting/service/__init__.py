"""The quote service: an HTTP API, an audit ledger in a database and a browser workbench.

Start it with ``underwriting serve``; build the app in Python with
:func:`underwriting.service.app.create_app`. See ``docs/service.md``.
"""
