"""The stage for notify's fault tests: notify restarted with compressed time, probation receivers
(fakes, as real processes) subscribed to one hub, and one R&M referral's case at that hub.

Time is compressed, never waited out, through notify's own settings (`COMPRESSED`): a webhook or
R&M call gives up after 2 s, a claim whose process died is taken again 1 s after its longest call
could have ended (`NOTIFY_LEASE_MARGIN_SECONDS`, 30 s in production), and a failed write-back is
tried again after 0.5 s, doubling (5 s in production). The production values are put back after.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from gmirs_stack.stack import LocalStack
from tests.e2e.case_api import HubCase
from tests.e2e.non_attendance import Receiver, RmCase
from tests.e2e.platform import Platform
from tests.e2e.rm import SNS, case_opened_for, rm_control
from tests.fakes.process import RunningFake, run_fake

HUB, PDU = "bury", "Bury"
PROBATION = "tests.fakes.probation_system"
WEBHOOK_PATH = "/webhooks/gmirs"
PLACEHOLDER_SECRET = "whsec_" + "Q" * 32  # replaced by the one notify hands out at subscription
COMPRESSED = {
    "NOTIFY_WEBHOOK_TIMEOUT_SECONDS": "2",
    "NOTIFY_RM_TIMEOUT_SECONDS": "2",
    "NOTIFY_LEASE_MARGIN_SECONDS": "1",
    "NOTIFY_RM_WRITEBACK_POLL_SECONDS": "0.2",
    "NOTIFY_RM_WRITEBACK_FIRST_RETRY_SECONDS": "0.5",
    "NOTIFY_REPORT_CLOCK_SECONDS": "1",
}


@dataclass
class Kit:
    platform: Platform
    rm: RmCase
    receivers: list[Receiver]
    """The hub's own two endpoints; the stack's demo probation system receives every hub's too."""

    @property
    def endpoints(self) -> list[Receiver]:
        return [*self.receivers, Receiver(self.platform.stack.url("probation"))]


@asynccontextmanager
async def notify_with(stack: LocalStack, settings: dict[str, str]) -> AsyncIterator[None]:
    """notify restarted with `settings`, and restarted as it was afterwards."""
    saved = dict(stack.service_env)
    stack.service_env.update(settings)
    await stack.stop_service("notify")
    await stack.start_service("notify")
    try:
        yield
    finally:
        stack.service_env.clear()
        stack.service_env.update(saved)
        await stack.stop_service("notify")
        await stack.start_service("notify")


async def subscribe(platform: Platform, url: str) -> tuple[str, str]:
    """Subscribe `url` to the hub's non-attendance, as the operator: (subscription id, secret)."""
    body = {"url": url, "event_types": ["non-attendance.recorded"], "hub_ids": [HUB]}
    response = await platform.call("operator", "POST", "notify", "/subscriptions", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"]), str(response.json()["secret"])


async def unsubscribe(platform: Platform, subscription_id: str) -> None:
    response = await platform.call(
        "operator", "DELETE", "notify", f"/subscriptions/{subscription_id}"
    )
    assert response.status_code == 204, response.text


async def subscribed_receiver(platform: Platform, fake: RunningFake) -> Receiver:
    """The running fake subscribed, verifying with the secret notify gave it."""
    receiver = Receiver(fake.base_url)
    receiver.subscription_id, secret = await subscribe(platform, fake.base_url + WEBHOOK_PATH)
    async with httpx.AsyncClient(base_url=fake.base_url, timeout=10) as http:
        response = await http.post("/_control/secrets", json={"secrets": [secret]})
        assert response.status_code == 200, response.text
    return receiver


@contextmanager
def receiver_process(*args: str, port: int | None = None) -> Iterator[RunningFake]:
    secret = args or ("--secret", PLACEHOLDER_SECRET)
    with run_fake(PROBATION, *secret, port=port) as fake:
        yield fake


async def rm_case(platform: Platform) -> RmCase:
    """A new R&M referral for the hub, once case has opened it."""
    created: dict[str, Any] = await rm_control(platform, "/_control/referrals", {"pdu": PDU, **SNS})
    _, case_id = await case_opened_for(platform, created["referral_id"])
    return RmCase(platform, created["referral_id"], HubCase(platform, HUB, case_id))


@asynccontextmanager
async def kit_on(platform: Platform) -> AsyncIterator[Kit]:
    with ExitStack() as fakes:
        running = [fakes.enter_context(receiver_process()) for _ in range(2)]
        async with notify_with(platform.stack, COMPRESSED):
            receivers = [await subscribed_receiver(platform, fake) for fake in running]
            try:
                yield Kit(platform, await rm_case(platform), receivers)
            finally:
                for receiver in receivers:
                    await unsubscribe(platform, receiver.subscription_id)
