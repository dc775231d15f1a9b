"""Exit codes of ``sendoff deploy`` and ``sendoff stacks`` (scripts can rely on them)."""

OK = 0  # done, or nothing to change
ERROR = 1  # the server is unreachable, the stack is busy, ...
USAGE = 2  # a bad command line (argparse)
INVALID = 3  # the template or parameters are invalid or unsupported: nothing changed
FAILED = 4  # the deployment (or deletion) failed; a deployment was rolled back
ROLLBACK_FAILED = 5  # the rollback failed too
NOT_FOUND = 6  # no such stack
