"""asyncapi.yaml lists exactly the registered events, and the reference parser accepts it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gmirs_contracts.registry import EVENTS, contracts_dir, topics

CONTRACTS = contracts_dir()
TOOLS = CONTRACTS / "tools"
SCRIPT = TOOLS / "validate-asyncapi.mjs"


def _load() -> dict[str, Any]:
    document = yaml.safe_load((CONTRACTS / "asyncapi.yaml").read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="session")
def node() -> str:
    """The node binary, with the pinned parser installed from the lock file if it is missing."""
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("node and npm (Node 20+) are required to validate contracts/asyncapi.yaml")
    if not (TOOLS / "node_modules" / "@asyncapi" / "parser").is_dir():
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=TOOLS,
            check=False,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            pytest.fail(f"npm ci in {TOOLS} failed:\n{result.stdout}\n{result.stderr}")
    return node


def _validate(node: str, document: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [node, str(SCRIPT), str(document), "--fail-on-warnings"],
        cwd=TOOLS,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _messages_by_name(document: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    messages = document["components"]["messages"]
    return {message["name"]: (key, message) for key, message in messages.items()}


def test_every_registered_event_is_a_message_with_its_schema() -> None:
    messages = _messages_by_name(_load())
    for ce_type, contract in EVENTS.items():
        assert ce_type in messages, f"{ce_type} is not in asyncapi.yaml"
        _, message = messages[ce_type]
        assert message["payload"] == {"$ref": f"./{contract.schema_path}"}
        assert message["traits"] == [{"$ref": "#/components/messageTraits/cloudEvent"}]
    documented = {name for name in messages if name.startswith("gmirs.")}
    assert documented == set(EVENTS), "asyncapi.yaml documents events that are not registered"


def test_every_event_is_on_the_channel_of_its_topic() -> None:
    document = _load()
    messages = _messages_by_name(document)
    channels = {channel["address"]: channel for channel in document["channels"].values()}
    assert topics() <= set(channels)
    for ce_type, contract in EVENTS.items():
        key, _ = messages[ce_type]
        refs = [m["$ref"] for m in channels[contract.topic]["messages"].values()]
        assert f"#/components/messages/{key}" in refs, f"{ce_type} not on {contract.topic}"


def _operations_on(document: dict[str, Any], address: str, action: str) -> list[str]:
    channel_ids = [cid for cid, ch in document["channels"].items() if ch["address"] == address]
    return [
        op_id
        for op_id, op in document["operations"].items()
        if op["action"] == action
        and op["channel"]["$ref"] in {f"#/channels/{c}" for c in channel_ids}
    ]


def test_producers_and_consumers_are_as_designed() -> None:
    document = _load()
    expected = {
        ("intake.referral-events.v1", "send"): ["referralIntakeSendsReferralEvents"],
        ("intake.referral-events.v1", "receive"): [
            "caseReceivesReferralEvents",
            "metricsReceivesReferralEvents",
            "notifyReceivesReferralEvents",
        ],
        ("case.case-events.v1", "send"): ["caseSendsCaseEvents"],
        ("case.case-events.v1", "receive"): [
            "notifyReceivesCaseEvents",
            "metricsReceivesCaseEvents",
        ],
        ("notify.delivery-events.v1", "send"): ["notifySendsDeliveryEvents"],
        ("notify.delivery-events.v1", "receive"): ["metricsReceivesDeliveryEvents"],
    }
    for (address, action), operations in expected.items():
        assert sorted(_operations_on(document, address, action)) == sorted(operations)


def test_dead_letter_headers_are_documented() -> None:
    headers = _load()["components"]["schemas"]["DeadLetterHeaders"]
    assert set(headers["required"]) == {
        "dlt_original_topic",
        "dlt_original_partition",
        "dlt_original_offset",
        "dlt_error_class",
        "dlt_error_message",
        "dlt_consumer_group",
        "dlt_attempts",
    }


def test_reference_parser_accepts_the_document(node: str) -> None:
    result = _validate(node, CONTRACTS / "asyncapi.yaml")
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert "valid:" in result.stdout


def _broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    shutil.copytree(CONTRACTS / "events", tmp_path / "events")
    text = (CONTRACTS / "asyncapi.yaml").read_text(encoding="utf-8")
    assert old in text
    target = tmp_path / "asyncapi.yaml"
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


@pytest.mark.parametrize(
    ("old", "new", "diagnostic"),
    [
        (
            "events/case/case-opened.v1.schema.json",
            "events/case/gone.v1.schema.json",
            "invalid-ref",
        ),
        ("action: receive", "action: subscribe", "asyncapi-document-resolved"),
        ("caseEvents/messages/caseOpened'", "caseEvents/messages/nope'", "invalid-ref"),
    ],
    ids=["dangling-schema-file", "v2-action", "dangling-message"],
)
def test_reference_parser_rejects_a_broken_copy(
    node: str, tmp_path: Path, old: str, new: str, diagnostic: str
) -> None:
    result = _validate(node, _broken_copy(tmp_path, old, new))
    assert result.returncode == 1, result.stdout
    assert diagnostic in result.stdout
    assert "INVALID" in result.stdout
