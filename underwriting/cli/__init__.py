"""Command-line interface. Each sub-command is a module with ``add_arguments`` and ``run``.

Sub-command modules import only the standard library at module level; heavy libraries are
imported inside ``run`` so that ``underwriting --help`` starts fast.
"""
