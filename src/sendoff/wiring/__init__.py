"""The wiring layer: above ``api/`` and ``console/``, below ``server.py``.

It holds the typed container of built services (:mod:`.services`) and one ``install``
module per service or surface (``sqs``, ``sns``, ``events``, ``iam``, ``sources``,
``stacks``, ``sts``, ``retention``, ``console``) that builds its domain object, registers
its endpoints and hooks. Nothing below imports this package (``tests/unit/test_layers.py``);
``server.py`` calls the installs in order.
"""
