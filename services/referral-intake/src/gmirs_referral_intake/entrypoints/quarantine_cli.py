"""`gmirs-referral-intake quarantine list|pending|show|replay|discard`: the operator API's twin.

For operators without the HTTP API (or with the service down). The same operations run, with
the same audit entries; the actor is `cli:<login name>`. Output is JSON; the exit status is 0 when
the action did what was asked, 1 when it could not (unknown id, not held, still unusable).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import uuid
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from gmirs_referral_intake.adapters.rm_api import RmApi
from gmirs_referral_intake.domain.rm_envelope import RmEnvelope
from gmirs_referral_intake.domain.rm_errors import TransientFailureError
from gmirs_referral_intake.domain.routing import HubRouting
from gmirs_referral_intake.entrypoints.rm_wiring import RmReceiving
from gmirs_referral_intake.handlers.quarantine_ops import (
    NotHeldError,
    QuarantineOperations,
    ReplayUnsupportedError,
    UnknownQuarantinedMessageError,
)
from gmirs_referral_intake.handlers.rm_events import RmEventOutcome
from gmirs_referral_intake.settings import IntakeSettings
from gmirs_runtime.cli import ExtraCommand
from gmirs_runtime.db import UnitOfWork, create_engine
from gmirs_runtime.settings import ServiceSettings

STATUSES = ("held", "replayed", "discarded", "all")
MIN_REASON = 3


def _configure(parser: argparse.ArgumentParser) -> None:
    verbs = parser.add_subparsers(dest="verb", required=True)
    listing = verbs.add_parser("list", help="quarantined messages with reasons (no content)")
    listing.add_argument("--status", choices=STATUSES, default="held")
    listing.add_argument("--limit", type=int, default=100)
    pending = verbs.add_parser("pending", help="messages waiting to be retried")
    pending.add_argument("--limit", type=int, default=100)
    for verb, text in (
        ("show", "one message with its content (audited)"),
        ("replay", "process a held message again"),
        ("discard", "give a held message up for good"),
    ):
        one = verbs.add_parser(verb, help=text)
        one.add_argument("id", type=uuid.UUID)
        one.add_argument("--reason", required=True, help="recorded in the audit log")


async def _run(settings: ServiceSettings, args: argparse.Namespace) -> int:
    if not isinstance(settings, IntakeSettings):
        raise TypeError("the quarantine command needs IntakeSettings")
    if getattr(args, "reason", None) is not None and len(args.reason.strip()) < MIN_REASON:
        print("--reason must say why (at least three characters)", file=sys.stderr)
        return 2
    engine = create_engine(
        settings.database_url.get_secret_value(),
        schema=settings.database_schema,
        application_name=f"{settings.service_name}-cli",
        pool_size=2,
    )
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    def unit_of_work() -> UnitOfWork:
        return UnitOfWork(sessions, source=f"/gmirs/{settings.service_name}")

    rm = RmApi.from_settings(settings) if settings.rm_configured else None
    receiving = _receiving(settings, unit_of_work, rm)
    try:
        return await act(receiving.operations, args, actor=f"cli:{getpass.getuser()}")
    finally:
        await receiving.aclose()
        if rm is not None:
            await rm.aclose()
        await engine.dispose()


def _receiving(
    settings: IntakeSettings, unit_of_work: Callable[[], UnitOfWork], rm: RmApi | None
) -> RmReceiving:
    if rm is not None:
        routing = HubRouting(pdu_hubs=settings.pdu_hubs, contract_hubs=settings.contract_hubs)
        return RmReceiving.for_rm(settings, unit_of_work=unit_of_work, rm=rm, routing=routing)

    async def unconfigured(envelope: RmEnvelope) -> RmEventOutcome:
        raise TransientFailureError("R&M is not configured (INTAKE_RM_API_URL and others)")

    return RmReceiving.build(settings, unit_of_work=unit_of_work, process=unconfigured)


async def act(operations: QuarantineOperations, args: argparse.Namespace, *, actor: str) -> int:
    """Run one verb and print its JSON result; the exit status."""
    try:
        if args.verb == "list":
            status = None if args.status == "all" else args.status
            items = await operations.list_messages(actor=actor, status=status, limit=args.limit)
            _print({"items": [asdict(item) for item in items]})
        elif args.verb == "pending":
            pending = await operations.list_pending(actor=actor, limit=args.limit)
            _print({"items": [asdict(item) for item in pending]})
        elif args.verb == "show":
            message = await operations.view(args.id, actor=actor, reason=args.reason)
            _print({**asdict(message.summary), "raw": message.raw})
        elif args.verb == "replay":
            result = await operations.replay(args.id, actor=actor, reason=args.reason)
            _print(asdict(result))
            return 0 if result.replayed else 1
        else:
            _print(asdict(await operations.discard(args.id, actor=actor, reason=args.reason)))
    except UnknownQuarantinedMessageError:
        return _fail("no such quarantined message")
    except NotHeldError as exc:
        return _fail(f"the message is already {exc}")
    except ReplayUnsupportedError as exc:
        return _fail(f"messages from {exc} cannot be replayed; discard and re-run the source")
    except TransientFailureError as exc:
        return _fail(f"not replayed, try again later: {exc}")
    return 0


def _print(value: dict[str, Any]) -> None:
    print(json.dumps(value, indent=2, default=str))


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


QUARANTINE_COMMAND = ExtraCommand(
    help="list, show, replay or discard quarantined R&M messages; list pending ones",
    configure=_configure,
    run=_run,
)
"""Register as `ServiceCommand(..., extra={"quarantine": QUARANTINE_COMMAND})`."""
