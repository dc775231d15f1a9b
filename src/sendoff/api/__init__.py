"""The ASGI edge: every protocol on one port. Parse, call the domain, render."""
