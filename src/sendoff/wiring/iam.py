"""Wire IAM: the query endpoint (servers, always, so templates and tools can manage
roles), and (every process) under ``--iam enforce`` the execution-role checks of destinations and
dead-letter targets, at configuration time and at delivery, and the functions' resource
policies for SNS and EventBridge deliveries and callers from other accounts; with
authentication on, the account boundary on every delivery (``account_boundary``)."""

from __future__ import annotations

from sendoff.wiring.services import Services, built


def install(services: Services) -> None:
    """Set ``services.roles``; add the role, resource-policy and account checks."""
    from sendoff.services.iam.permissions import RolePermissions
    from sendoff.services.iam.service import RoleService

    settings = services.settings
    roles = RoleService(services.store)
    services.roles = roles
    services.extra_health["iam"] = settings.iam
    access = None
    if settings.iam == "enforce":
        from sendoff.destinations.registry import destination_actions, destination_resources
        from sendoff.functions.policy import FunctionPolicies
        from sendoff.functions.policy_access import ResourcePolicyAccess

        permissions = RolePermissions(roles, destination_actions(), destination_resources())
        services.registry.role_check = permissions
        services.deliveries.add_guard(permissions.guard)
        access = ResourcePolicyAccess(FunctionPolicies(services.registry))
        services.registry.invoke_check = access
        services.deliveries.add_guard(access.guard)
    if settings.resolved_auth != "none":
        from sendoff.services.iam.account_boundary import AccountBoundary

        services.deliveries.add_guard(AccountBoundary(access).guard)


def install_http(services: Services) -> None:
    """Register the ``iam`` query endpoint."""
    from sendoff.api.iam import IamApi

    settings = services.settings
    roles = built(services.roles, "the IAM service")
    api = IamApi(roles, account_id=settings.account_id, default_region=settings.region)
    services.router.add_query_service("iam", api.actions, api.endpoint)
