"""Local AWS (moto as a real server process) is provisioned the way HMPPS consumers are: a filtered
subscription delivering SNS Notification JSON, and a queue that redrives to its DLQ."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiobotocore.session import get_session  # type: ignore[import-untyped]

from gmirs_runtime.local.ports import PortInUseError
from gmirs_stack import aws as local
from gmirs_stack.aws import AwsResources, provision, queue_depth, start_moto
from tests.fakes.rm_events import EVENT_TYPES
from tests.fakes.rm_harness import notification, receive_all


async def publish(aws: AwsResources, message: str, event_type: str | None) -> None:
    attributes = {}
    if event_type is not None:
        attributes["eventType"] = {"DataType": "String", "StringValue": event_type}
    async with get_session().create_client("sns", **aws.client_kwargs()) as sns:
        await sns.publish(TopicArn=aws.topic_arn, Message=message, MessageAttributes=attributes)


async def attributes(aws: AwsResources, queue_url: str) -> dict[str, Any]:
    async with get_session().create_client("sqs", **aws.client_kwargs()) as sqs:
        response = await sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])
    found: dict[str, Any] = response["Attributes"]
    return found


async def test_subscription_is_filtered_on_event_type_and_not_raw(aws: AwsResources) -> None:
    async with get_session().create_client("sns", **aws.client_kwargs()) as sns:
        subscriptions = await sns.list_subscriptions_by_topic(TopicArn=aws.topic_arn)
        [subscription] = subscriptions["Subscriptions"]
        found = await sns.get_subscription_attributes(SubscriptionArn=aws.subscription_arn)
    settings = found["Attributes"]

    assert subscription["SubscriptionArn"] == aws.subscription_arn
    assert subscription["Protocol"] == "sqs"
    assert json.loads(settings["FilterPolicy"]) == {"eventType": list(local.RM_EVENT_TYPES)}
    assert settings["FilterPolicyScope"] == "MessageAttributes"
    assert settings["RawMessageDelivery"] == "false"


async def test_queue_redrives_to_its_dlq(aws: AwsResources) -> None:
    queue = await attributes(aws, aws.queue_url)
    dlq = await attributes(aws, aws.dlq_url)

    redrive = json.loads(queue["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq["QueueArn"]
    assert int(redrive["maxReceiveCount"]) == local.DEFAULT_MAX_RECEIVE_COUNT
    assert json.loads(queue["Policy"])["Statement"][0]["Condition"]["ArnEquals"] == {
        "aws:SourceArn": aws.topic_arn
    }


async def test_only_rm_event_types_reach_the_queue(aws: AwsResources) -> None:
    await publish(aws, '{"eventType":"intervention.referral.sent"}', "intervention.referral.sent")
    await publish(aws, "{}", "prison-offender-events.prisoner.released")
    await publish(aws, "no attribute at all", None)
    await publish(aws, "not json", "intervention.action-plan.approved")

    messages = await receive_all(aws, aws.queue_url)

    bodies = [notification(m) for m in messages]
    assert sorted(b["Message"] for b in bodies) == sorted(
        ['{"eventType":"intervention.referral.sent"}', "not json"]
    )
    for body in bodies:
        assert body["Type"] == "Notification"
        assert body["TopicArn"] == aws.topic_arn
        assert body["MessageAttributes"]["eventType"]["Type"] == "String"
    assert await queue_depth(aws.endpoint_url, aws.queue_url) == 0


async def test_a_message_never_deleted_ends_in_the_dlq(moto_aws: AwsResources) -> None:
    # Another region is another set of queues on the same server, so the session's stay as they are.
    aws = await provision(moto_aws.endpoint_url, max_receive_count=2, region="eu-west-1")
    await publish(aws, "poison", "intervention.referral.sent")

    receives = []
    async with get_session().create_client("sqs", **aws.client_kwargs()) as sqs:
        for _ in range(4):
            response = await sqs.receive_message(
                QueueUrl=aws.queue_url,
                WaitTimeSeconds=1,
                VisibilityTimeout=0,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
            receives += [
                m["Attributes"]["ApproximateReceiveCount"] for m in response.get("Messages", [])
            ]

    assert receives == ["1", "2"]
    [dead] = await receive_all(aws, aws.dlq_url)
    assert notification(dead)["Message"] == "poison"
    assert await queue_depth(aws.endpoint_url, aws.queue_url) == 0


async def test_provisioning_again_changes_nothing_but_the_settings(moto_aws: AwsResources) -> None:
    first = await provision(moto_aws.endpoint_url, region="us-east-1")
    second = await provision(moto_aws.endpoint_url, max_receive_count=9, region="us-east-1")

    assert (second.topic_arn, second.queue_url, second.dlq_url) == (
        first.topic_arn,
        first.queue_url,
        first.dlq_url,
    )
    assert second.subscription_arn == first.subscription_arn
    redrive = json.loads((await attributes(second, second.queue_url))["RedrivePolicy"])
    assert int(redrive["maxReceiveCount"]) == 9


def test_settings_for_intake_and_the_simulator(aws: AwsResources) -> None:
    env = aws.intake_env()

    assert env["INTAKE_SQS_QUEUE_URL"] == aws.queue_url
    assert env["INTAKE_AWS_ENDPOINT_URL"] == aws.endpoint_url
    assert json.loads(env["INTAKE_SNS_TOPIC_ARNS"]) == [aws.topic_arn]
    assert aws.simulator_args() == [
        "--sns-topic-arn",
        aws.topic_arn,
        "--aws-endpoint",
        aws.endpoint_url,
    ]


async def test_moto_refuses_a_taken_port(aws: AwsResources, tmp_path: Path) -> None:
    taken = int(aws.endpoint_url.rsplit(":", 1)[1])

    with pytest.raises(PortInUseError):
        await start_moto(taken, tmp_path / "moto.log")


def test_event_types_match_the_simulator() -> None:
    assert set(local.RM_EVENT_TYPES) == set(EVENT_TYPES)
    assert len(local.RM_EVENT_TYPES) == len(EVENT_TYPES)


def test_event_types_match_intake() -> None:
    """The stack cannot import intake, so the list is repeated; this keeps the copies equal."""
    envelope = pytest.importorskip("gmirs_referral_intake.domain.rm_envelope")

    assert set(local.RM_EVENT_TYPES) == set(envelope.RM_EVENT_TYPES)
