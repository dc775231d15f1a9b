"""IAM, the first step: roles with inline and AWS-managed policies, and a pure evaluator
that answers "may this role call this action on this resource?" (see docs/iam.md)."""

from sendoff.services.iam.policy import Decision, Policy, Verdict, evaluate, parse_policy
from sendoff.services.iam.service import RoleService

__all__ = ["Decision", "Policy", "RoleService", "Verdict", "evaluate", "parse_policy"]
