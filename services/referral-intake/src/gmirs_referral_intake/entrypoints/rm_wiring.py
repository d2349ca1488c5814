"""Everything that receives R&M messages, built once from settings for bootstrap to wire in.

    receiving = RmReceiving.for_rm(
        settings, unit_of_work=infra.unit_of_work, rm=rm, routing=routing
    )
    receiving.install(app)                       # the /rm and /operator/quarantine routes use it
    service.workers.update(receiving.workers())  # SQS consumer (if a queue is set), retrier
    service.on_stop.append(receiving.aclose)

The routes themselves come from `rm_routers()` (entrypoints/rm_push.py) and are mounted whether
or not R&M is configured, so the OpenAPI document is always complete; without `install` they
answer 503.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from gmirs_referral_intake.adapters.rm_api import RmApi
from gmirs_referral_intake.adapters.sns_signature import SnsVerifier
from gmirs_referral_intake.domain.retry import Backoff
from gmirs_referral_intake.domain.rm_envelope import RmEnvelope
from gmirs_referral_intake.domain.routing import HubRouting
from gmirs_referral_intake.entrypoints.pending_retrier import PendingRetrier
from gmirs_referral_intake.entrypoints.sqs_consumer import SqsConsumer
from gmirs_referral_intake.handlers.quarantine_ops import QuarantineOperations, Replayer
from gmirs_referral_intake.handlers.rm_events import RmEventOutcome, process_rm_event
from gmirs_referral_intake.handlers.rm_receiving import ProcessEnvelope, RmReceiver
from gmirs_referral_intake.settings import IntakeSettings
from gmirs_runtime.db import UnitOfWork
from gmirs_runtime.problems import Problem
from gmirs_runtime.service import Worker

STATE = "rm_receiving"


@dataclass
class RmReceiving:
    settings: IntakeSettings
    receiver: RmReceiver
    verifier: SnsVerifier
    operations: QuarantineOperations

    @classmethod
    def build(
        cls,
        settings: IntakeSettings,
        *,
        unit_of_work: Callable[[], UnitOfWork],
        process: ProcessEnvelope,
        replayers: Mapping[str, Replayer] | None = None,
    ) -> RmReceiving:
        """From any `process` (the R&M one is `for_rm`); `replayers` add quarantine sources."""
        receiver = RmReceiver(
            process=process,
            unit_of_work=unit_of_work,
            backoff=Backoff(settings.retry_initial_seconds, settings.retry_max_seconds),
            accepted_topics=settings.sns_topic_arns,
        )
        return cls(
            settings=settings,
            receiver=receiver,
            verifier=SnsVerifier.from_settings(settings),
            operations=QuarantineOperations(
                unit_of_work=unit_of_work, receiver=receiver, replayers=replayers
            ),
        )

    @classmethod
    def for_rm(
        cls,
        settings: IntakeSettings,
        *,
        unit_of_work: Callable[[], UnitOfWork],
        rm: RmApi,
        routing: HubRouting,
        replayers: Mapping[str, Replayer] | None = None,
    ) -> RmReceiving:
        """Messages processed by `process_rm_event` against `rm` (the caller closes `rm`)."""

        async def process(envelope: RmEnvelope) -> RmEventOutcome:
            return await process_rm_event(
                envelope, unit_of_work=unit_of_work, rm=rm, routing=routing
            )

        return cls.build(settings, unit_of_work=unit_of_work, process=process, replayers=replayers)

    def install(self, app: FastAPI) -> None:
        setattr(app.state, STATE, self)

    def workers(self, *, sqs_pollers: int = 1) -> dict[str, Worker]:
        """The pending retrier, and the SQS consumer when a queue is configured."""
        workers: dict[str, Worker] = {
            "rm-pending-retrier": PendingRetrier(self.settings, self.receiver).run
        }
        if self.settings.sqs_queue_url:
            consumer = SqsConsumer(self.settings, self.receiver, pollers=sqs_pollers)
            workers["rm-sqs-consumer"] = consumer.run
        return workers

    async def aclose(self) -> None:
        await self.verifier.aclose()


def rm_receiving(request: Request) -> RmReceiving:
    """FastAPI dependency: the installed RmReceiving, or 503 when R&M is not configured."""
    receiving = getattr(request.app.state, STATE, None)
    if not isinstance(receiving, RmReceiving):
        raise Problem(503, detail="Refer and Monitor messages are not being received here.")
    return receiving


RmReceivingDep = Annotated[RmReceiving, Depends(rm_receiving)]
