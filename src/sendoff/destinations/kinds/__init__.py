"""One module per destination kind, each exposing ``KIND`` (see :mod:`..kind`).

:func:`sendoff.destinations.registry.discover` imports every module here; adding a kind is
adding a module (and its tests) — nothing else names the kinds.
"""
