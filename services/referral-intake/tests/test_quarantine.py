"""The quarantine: held once, listed without content, viewed, replayed and discarded with audit.

Intake runs in-process on real PostgreSQL, the broker and a token issuer; replays fetch from the
R&M simulator running as its own process. The CLI runs the same operations.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_referral_intake.adapters import pending, quarantine
from gmirs_referral_intake.bootstrap import MIGRATIONS, build, openapi
from gmirs_referral_intake.entrypoints.quarantine_cli import QUARANTINE_COMMAND
from gmirs_referral_intake.settings import IntakeSettings
from gmirs_runtime.cli import ServiceCommand
from gmirs_runtime.cli import main as run_cli
from gmirs_runtime.migrations import downgrade, upgrade

WHY = {"reason": "INC-1234 checking a stuck referral"}


@pytest.fixture
async def env(rm_env: Any) -> AsyncIterator[Any]:
    # no reconciliation round: it would race the tests for the referrals they make R&M refuse
    async with rm_env(reconcile_enabled=False) as running:
        yield running


async def quarantine_bare(env: Any, body: bytes | dict[str, Any]) -> tuple[str, str]:
    """Post a bare message that will be quarantined; its quarantine id and reason."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with env.ops() as ops:
        response = await ops.post(
            "/rm/events", content=content, headers={"content-type": "application/json"}
        )
    assert response.status_code == 422, response.text
    problem = response.json()
    return problem["quarantine_id"], problem["reason"]


async def _gone_referral(env: Any) -> tuple[str, str]:
    """A referral.sent that R&M answers 404 for, quarantined: (quarantine id, R&M id)."""
    created = await env.control.create_referral(delivery="withhold")
    rm_id = created["referral_id"]
    await env.control.faults(not_found_ids=[rm_id])
    held, reason = await quarantine_bare(env, created["events"][0]["envelope"])
    assert "404" in reason
    return held, rm_id


async def test_a_message_is_held_once_while_held_and_afresh_after_discard(env: Any) -> None:
    infra = env.intake.infra
    async with infra.unit_of_work() as uow:
        first = await quarantine.hold(uow.session, source="sqs", raw="{bad", reason="r1")
        again = await quarantine.hold(uow.session, source="sqs", raw="{bad", reason="r2")
        await uow.commit()
    assert first == again
    assert await env.scalar("SELECT attempts FROM quarantine WHERE id = :i", i=first) == 2
    assert await env.scalar("SELECT reason FROM quarantine WHERE id = :i", i=first) == "r2"
    async with env.ops() as ops:
        assert (
            await ops.post(f"/operator/quarantine/{first}/discard", json=WHY)
        ).status_code == 200
    async with infra.unit_of_work() as uow:
        fresh = await quarantine.hold(uow.session, source="sqs", raw="{bad", reason="r3")
        await uow.commit()
    assert fresh != first
    with pytest.raises(ValueError, match="source"):
        async with infra.unit_of_work() as uow:
            await quarantine.hold(uow.session, source="email", raw="x", reason="r")


async def test_operators_list_without_content_and_view_with_an_audited_reason(env: Any) -> None:
    held, reason = await quarantine_bare(env, b'{"eventType": "intervention.referral.sent"}')
    async with env.ops() as ops:
        listed = (await ops.get("/operator/quarantine")).json()["items"]
        unreasoned = await ops.post(f"/operator/quarantine/{held}/view", json={})
        viewed = await ops.post(f"/operator/quarantine/{held}/view", json=WHY)
        unknown = await ops.post(f"/operator/quarantine/{uuid.uuid4()}/view", json=WHY)
    async with env.intake.as_client("lead", ["lead-provider"]) as lead:
        refused = await lead.get("/operator/quarantine")

    assert [(i["id"], i["source"], i["reason"]) for i in listed] == [(held, "bare", reason)]
    assert "raw" not in listed[0]
    assert unreasoned.status_code == 422
    assert viewed.status_code == 200
    assert json.loads(viewed.json()["raw"]) == {"eventType": "intervention.referral.sent"}
    assert unknown.status_code == 404
    assert refused.status_code == 403
    assert await env.audited("quarantine.viewed") == [("ops-anna", held, WHY["reason"])]
    assert len(await env.audited("quarantine.listed")) == 1


async def test_a_replay_after_r_and_m_recovers_publishes_and_releases_the_message(env: Any) -> None:
    held, rm_id = await _gone_referral(env)
    async with env.ops() as ops:
        await env.control.faults(api_fail_requests=100_000, api_status=503)
        unavailable = await ops.post(f"/operator/quarantine/{held}/replay", json=WHY)
        await env.control.faults(clear=True)
        replayed = await ops.post(f"/operator/quarantine/{held}/replay", json=WHY)
        twice = await ops.post(f"/operator/quarantine/{held}/replay", json=WHY)
        discard = await ops.post(f"/operator/quarantine/{held}/discard", json=WHY)

    assert unavailable.status_code == 503
    assert replayed.status_code == 200, replayed.text
    result = replayed.json()
    assert (result["replayed"], result["outcome"]) == (True, "published")
    assert result["message"]["status"] == "replayed"
    assert result["message"]["resolved_by"] == "ops-anna"
    assert (twice.status_code, discard.status_code) == (409, 409)
    count = "SELECT count(*) FROM referrals WHERE external_key = :k"
    assert await env.scalar(count, k=f"rm:{rm_id}") == 1
    assert await env.audited("quarantine.replay-failed") == [("ops-anna", held, WHY["reason"])]
    assert await env.audited("quarantine.replayed") == [("ops-anna", held, WHY["reason"])]


async def test_a_replay_that_is_still_unusable_stays_held_with_its_reason(env: Any) -> None:
    held, _ = await quarantine_bare(env, b"{not json")
    async with env.ops() as ops:
        replay = await ops.post(f"/operator/quarantine/{held}/replay", json=WHY)
        discarded = await ops.post(f"/operator/quarantine/{held}/discard", json=WHY)
        held_now = (await ops.get("/operator/quarantine")).json()["items"]
        every = (await ops.get("/operator/quarantine", params={"status": "all"})).json()["items"]
    result = replay.json()
    assert (result["replayed"], result["message"]["status"]) == (False, "held")
    assert "not valid JSON" in result["reason"]
    assert result["message"]["attempts"] == 2
    assert discarded.json()["status"] == "discarded"
    assert held_now == []
    assert [i["status"] for i in every] == ["discarded"]
    assert await env.audited("quarantine.discarded") == [("ops-anna", held, WHY["reason"])]


async def test_the_cli_lists_shows_replays_and_discards_with_audit(
    env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    held, rm_id = await _gone_referral(env)
    junk, _ = await quarantine_bare(env, b"[]")
    await env.control.faults(clear=True)
    settings = env.intake.infra.settings
    assert isinstance(settings, IntakeSettings)
    actor = f"cli:{getpass.getuser()}"

    assert await _cli(settings, "list") == 0
    listed = json.loads(capsys.readouterr().out)["items"]
    assert {i["id"] for i in listed} == {held, junk}
    assert await _cli(settings, "show", held, "--reason", "x") == 2  # a reason must say why
    assert await _cli(settings, "show", held, "--reason", WHY["reason"]) == 0
    assert rm_id in json.loads(capsys.readouterr().out)["raw"]
    assert await _cli(settings, "replay", held, "--reason", WHY["reason"]) == 0
    assert json.loads(capsys.readouterr().out)["outcome"] == "published"
    assert await _cli(settings, "replay", junk, "--reason", WHY["reason"]) == 1
    assert await _cli(settings, "discard", junk, "--reason", WHY["reason"]) == 0
    assert await _cli(settings, "discard", str(uuid.uuid4()), "--reason", WHY["reason"]) == 1
    capsys.readouterr()

    assert await env.audited("quarantine.viewed") == [(actor, held, WHY["reason"])]
    assert await env.audited("quarantine.replayed") == [(actor, held, WHY["reason"])]
    assert await env.audited("quarantine.discarded") == [(actor, junk, WHY["reason"])]


async def test_the_command_is_registered_through_the_runtime_cli(
    env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    held, _ = await quarantine_bare(env, b"{}")
    settings = env.intake.infra.settings
    command = ServiceCommand(
        name="referral-intake",
        load_settings=lambda: settings,
        build=build,
        migrations=MIGRATIONS,
        openapi=openapi,
        extra={"quarantine": QUARANTINE_COMMAND},
    )
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:  # the runtime's main configures logging for a process: undo that for the next tests
        argv = ["quarantine", "list", "--status", "all"]
        status = await asyncio.to_thread(run_cli, command, argv)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    assert status == 0
    assert [i["id"] for i in json.loads(capsys.readouterr().out)["items"]] == [held]


async def test_the_migration_goes_down_and_up_again(database_url: str) -> None:
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url, "intake")
    await asyncio.to_thread(downgrade, MIGRATIONS, database_url, "intake", "0002")
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url, "intake")


async def _cli(settings: IntakeSettings, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    QUARANTINE_COMMAND.configure(parser)
    return await QUARANTINE_COMMAND.run(settings, parser.parse_args(list(argv)))


REPEATS = 12  # PostgreSQL plans a prepared statement generically from its sixth run on


async def test_holding_and_pending_work_many_times_on_one_connection(env: Any) -> None:
    async with env.intake.infra.engine.connect() as connection:
        await connection.execute(text("SET plan_cache_mode = force_generic_plan"))
        session = AsyncSession(bind=connection)
        held = [
            await quarantine.hold(session, source="bare", raw=f"{{bad {n % 3}", reason=f"r{n}")
            for n in range(REPEATS)
        ]
        waiting = [
            await pending.record(
                session, key=f"k{n % 2}", source="bare", raw="{}", reason="r", retry_in=60
            )
            for n in range(REPEATS)
        ]
        await session.commit()
        await connection.commit()
    assert len(set(held)) == 3
    counted = "SELECT sum(attempts) FROM quarantine WHERE status = 'held'"
    assert await env.scalar(counted) == REPEATS
    assert len(set(waiting)) == 2
    assert await env.scalar("SELECT sum(attempts) FROM pending_messages") == REPEATS


@pytest.mark.usefixtures("generic_plans")
async def test_the_events_route_quarantines_many_times_on_one_connection(rm_env: Any) -> None:
    async with rm_env(database_pool_size=1) as running:
        held = [
            await quarantine_bare(running, b'{"eventType": "nonsense", "n": %d}' % (n % 4))
            for n in range(REPEATS)
        ]
        generic = await running.scalar("SHOW plan_cache_mode")
    assert generic == "force_generic_plan"
    assert len({quarantine_id for quarantine_id, _ in held}) == 4
