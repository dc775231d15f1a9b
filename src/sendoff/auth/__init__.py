"""Who is calling: AWS Signature Version 4 verification, credentials, session tokens.

* :mod:`~sendoff.auth.credentials`: access keys kept in the store (every process sees them)
  and the server's own secret (session tokens, signed code URLs).
* :mod:`~sendoff.auth.sigv4`: verify a request's signature with botocore's signer.
* :mod:`~sendoff.auth.session`: short-lived ``ASIA…`` credentials for functions, verified
  without a store lookup.
* :mod:`~sendoff.auth.wire`: the failures in each protocol's error shape.
* :mod:`~sendoff.auth.gate`: the ASGI check every request passes (docs/security.md).
"""
