"""Dependencies declared once: the unit of work, the SSRF policy and the caller's scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from gmirs_notify.adapters.subscriptions import EVERY_OWNER
from gmirs_notify.adapters.unit_of_work import NotifyUnitOfWork
from gmirs_notify.domain.attendance_watch import WatchdogPolicy
from gmirs_notify.domain.report import ReportPolicy
from gmirs_notify.domain.targets import TargetPolicy
from gmirs_notify.handlers.deliver import Sender
from gmirs_runtime.auth import Principal, require_roles
from gmirs_runtime.deps import unit_of_work

OPERATOR = "operator"
PROBATION_SYSTEM = "probation-system"


def target_policy(request: Request) -> TargetPolicy:
    policy: TargetPolicy = request.app.state.target_policy
    return policy


def report_policy(request: Request) -> ReportPolicy:
    policy: ReportPolicy = request.app.state.report_policy
    return policy


def watchdog_policy(request: Request) -> WatchdogPolicy:
    policy: WatchdogPolicy = request.app.state.watchdog_policy
    return policy


def webhook_sender(request: Request) -> Sender:
    sender: Sender = request.app.state.webhook_sender
    return sender


UoW = Annotated[NotifyUnitOfWork, Depends(unit_of_work)]
Policy = Annotated[TargetPolicy, Depends(target_policy)]
Reporting = Annotated[ReportPolicy, Depends(report_policy)]
Watching = Annotated[WatchdogPolicy, Depends(watchdog_policy)]
OutboundSender = Annotated[Sender, Depends(webhook_sender)]
SubscriptionManager = Annotated[Principal, Depends(require_roles(OPERATOR, PROBATION_SYSTEM))]
Operator = Annotated[Principal, Depends(require_roles(OPERATOR))]


def owner_scope(principal: Principal) -> str | None:
    """Whose subscriptions the caller may see: every one for operators, else its own."""
    if OPERATOR in principal.roles:
        return EVERY_OWNER
    return principal.client_id
