"""What the local platform runs, on which ports, and the demo clients it seeds.

Services are named here only as module names to start as processes: the stack never imports a
service, so the rule that services are independent holds for the stack too.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from gmirs_contracts.hubs import HUB_IDS

DATABASE = "gmirs"


@dataclass(frozen=True)
class Ports:
    postgres: int = 54329
    kafka: int = 19092
    issuer: int = 8100
    intake: int = 8101
    case: int = 8102
    metrics: int = 8103
    notify: int = 8104
    probation: int = 8110
    collector: int = 8111
    moto: int = 8120
    rm: int = 8121
    gov_notify: int = 8122

    def named(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def with_overrides(self, overrides: dict[str, int]) -> Ports:
        return replace(self, **overrides)


@dataclass(frozen=True)
class ServiceSpec:
    """One service process: its module, env prefix, schema, audience and port field."""

    name: str
    module: str
    env_prefix: str
    schema: str
    audience: str
    port_field: str


SERVICES = (
    ServiceSpec(
        "referral-intake", "gmirs_referral_intake", "INTAKE_", "intake", "gmirs-intake", "intake"
    ),
    ServiceSpec("case", "gmirs_case", "CASE_", "casework", "gmirs-case", "case"),
    ServiceSpec("metrics", "gmirs_metrics", "METRICS_", "metrics", "gmirs-metrics", "metrics"),
    ServiceSpec("notify", "gmirs_notify", "NOTIFY_", "notify", "gmirs-notify", "notify"),
)
TOPICS = ("intake.referral-events.v1", "case.case-events.v1", "notify.delivery-events.v1")

ALL_AUDIENCES = tuple(s.audience for s in SERVICES)
HUB_AUDIENCES = ("gmirs-case", "gmirs-notify")
"""A hub works its cases at case and its manual-entry queue (what R&M refused) at notify."""
_ROLES_AUDIENCES: dict[str, tuple[str, ...]] = {
    "lead-provider": ("gmirs-intake", "gmirs-case", "gmirs-metrics", "gmirs-notify"),
    "operator": ALL_AUDIENCES,
    "commissioner": ("gmirs-metrics",),
    "probation-system": ("gmirs-notify",),
}


def demo_clients(path: Path) -> list[dict[str, Any]]:
    """Demo OAuth2 clients, with secrets generated once and kept in `path` (mode 0600)."""
    if path.exists():
        clients: list[dict[str, Any]] = json.loads(path.read_text())["clients"]
        return clients
    clients = [
        {
            "client_id": f"hub-{hub}",
            "roles": ["hub"],
            "audience": list(HUB_AUDIENCES),
            "claims": {"hub_id": hub},
        }
        for hub in HUB_IDS
    ]
    clients += [  # a hub manager who may also read the hub's sensitive case notes
        {
            "client_id": f"hub-{hub}-manager",
            "roles": ["hub", "sensitive-notes"],
            "audience": list(HUB_AUDIENCES),
            "claims": {"hub_id": hub},
        }
        for hub in HUB_IDS
    ]
    clients += [
        {"client_id": role, "roles": [role], "audience": list(audiences)}
        for role, audiences in _ROLES_AUDIENCES.items()
    ]
    for client in clients:
        client["client_secret"] = secrets.token_urlsafe(24)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump({"clients": clients}, handle, indent=2)
    return clients
