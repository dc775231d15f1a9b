"""Who is calling: AWS Signature Version 4 verification, credentials, session tokens.

* :mod:`~sendoff.auth.credentials`: access keys kept in the store (every process sees them)
  and the server's own secret (session tokens, signed code URLs).
* :mod:`~sendoff.auth.sigv4`: parse and verify a request's signature;
  :mod:`~sendoff.auth.canonical` builds the canonical request fast,
  :mod:`~sendoff.auth.reference` is botocore's signer, the reference it is checked against.
* :mod:`~sendoff.auth.session`: short-lived ``ASIA…`` credentials for functions, verified
  without a store lookup.
* :mod:`~sendoff.auth.wire`: the failures in each protocol's error shape.
* :mod:`~sendoff.auth.gate`: the ASGI check every request passes (docs/security.md);
  :mod:`~sendoff.auth.caller` is the verified caller it leaves for the routes.
* :mod:`~sendoff.auth.signing`: the other direction, SigV4 for sendoff's own HTTP clients
  (the CLI, ``sendoff deploy``).
"""
