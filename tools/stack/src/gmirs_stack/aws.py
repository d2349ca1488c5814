"""Local AWS for Refer and Monitor events: moto in server mode, provisioned the way HMPPS consumers are.

HMPPS services publish domain events to one shared SNS topic; each consumer owns an SQS queue subscribed
to it with a filter policy on the `eventType` message attribute and a dead-letter queue behind it (the
`hmpps-sqs` convention). moto stands in for AWS locally and in tests: a real HTTP endpoint, so intake's
aiobotocore code runs unchanged. The stack never imports a service, so the event types intake accepts are
repeated here as data; a test keeps the two lists equal.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aiobotocore.session import get_session  # type: ignore[import-untyped]

from gmirs_runtime.local.ports import LOOPBACK, ensure_port_free
from gmirs_runtime.local.processes import ManagedProcess, ProcessStartError

if TYPE_CHECKING:
    from types_aiobotocore_sns import SNSClient
    from types_aiobotocore_sqs import SQSClient
    from types_aiobotocore_sqs.literals import QueueAttributeNameType

RM_EVENT_TYPES: tuple[str, ...] = (
    "intervention.referral.sent",
    "intervention.referral.assigned",
    "intervention.referral.ended",
    "intervention.referral.concluded",
    "intervention.action-plan.submitted",
    "intervention.action-plan.approved",
    "intervention.session-appointment.attended",
    "intervention.session-appointment.missed",
    "intervention.session-appointment.session-feedback-submitted",
    "intervention.initial-assessment-appointment.attended",
    "intervention.initial-assessment-appointment.missed",
    "intervention.initial-assessment-appointment.session-feedback-submitted",
    "intervention.end-of-service-report.submitted",
)
TOPIC_NAME = "hmpps-domain-events"
QUEUE_NAME = "gmirs-intake-rm-events"
DLQ_NAME = "gmirs-intake-rm-events-dlq"
REGION = "eu-west-2"
ACCESS_KEY = "testing"
SECRET_KEY = "testing"  # moto accepts any credentials; these are the conventional dummy ones
DEFAULT_MAX_RECEIVE_COUNT = 5
DEFAULT_VISIBILITY_TIMEOUT_S = 30
DLQ_RETENTION_S = 14 * 24 * 3600  # the maximum, so an operator has time to look at dead letters
_START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class AwsResources:
    """Where the provisioned topic and queues are, and how to reach them."""

    topic_arn: str
    queue_url: str
    dlq_url: str
    region: str
    endpoint_url: str
    access_key: str
    secret_key: str
    subscription_arn: str = ""
    max_receive_count: int = DEFAULT_MAX_RECEIVE_COUNT

    def client_kwargs(self) -> dict[str, str]:
        """Keyword arguments for aiobotocore's `create_client` against this endpoint."""
        return client_kwargs(self.endpoint_url, self.region)

    def intake_env(self, prefix: str = "INTAKE_") -> dict[str, str]:
        """Environment for referral intake's settings, so its SQS consumer reads this queue."""
        return {
            f"{prefix}SQS_QUEUE_URL": self.queue_url,
            f"{prefix}AWS_REGION": self.region,
            f"{prefix}AWS_ENDPOINT_URL": self.endpoint_url,
            f"{prefix}AWS_ACCESS_KEY_ID": self.access_key,
            f"{prefix}AWS_SECRET_ACCESS_KEY": self.secret_key,
            f"{prefix}SQS_MAX_RECEIVE_COUNT": str(self.max_receive_count),
            f"{prefix}SNS_TOPIC_ARNS": json.dumps([self.topic_arn]),
        }

    def simulator_args(self) -> list[str]:
        """Command-line options that make the R&M simulator publish to this topic."""
        return ["--sns-topic-arn", self.topic_arn, "--aws-endpoint", self.endpoint_url]


def client_kwargs(endpoint_url: str, region: str = REGION) -> dict[str, str]:
    return {
        "region_name": region,
        "endpoint_url": endpoint_url,
        "aws_access_key_id": ACCESS_KEY,
        "aws_secret_access_key": SECRET_KEY,
    }


def moto_argv(port: int) -> list[str]:
    """moto's threaded server on loopback, run by this interpreter (moto[server] is a dependency)."""
    return [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)]


async def start_moto(port: int, log_path: Path) -> ManagedProcess:
    """Start moto on 127.0.0.1:`port` and return once it accepts connections; the caller stops it."""
    ensure_port_free(port, "moto (local AWS)")
    process = ManagedProcess("moto", moto_argv(port), log_path=log_path)
    process.start()
    try:
        await process.wait_ready(port, timeout=_START_TIMEOUT_S)
    except ProcessStartError:
        await process.stop()
        raise
    return process


def moto_endpoint(port: int) -> str:
    return f"http://{LOOPBACK}:{port}"


@asynccontextmanager
async def aws_clients(
    endpoint_url: str, region: str = REGION
) -> AsyncIterator[tuple[SNSClient, SQSClient]]:
    """An SNS and an SQS client for `endpoint_url`, closed on exit."""
    session = get_session()
    kwargs = client_kwargs(endpoint_url, region)
    async with (
        session.create_client("sns", **kwargs) as sns,
        session.create_client("sqs", **kwargs) as sqs,
    ):
        yield sns, sqs


async def provision(
    endpoint_url: str,
    *,
    max_receive_count: int = DEFAULT_MAX_RECEIVE_COUNT,
    visibility_timeout_s: int = DEFAULT_VISIBILITY_TIMEOUT_S,
    region: str = REGION,
) -> AwsResources:
    """Create (or bring up to date) the topic, queue, DLQ and filtered subscription; idempotent."""
    async with aws_clients(endpoint_url, region) as (sns, sqs):
        topic_arn = (await sns.create_topic(Name=TOPIC_NAME))["TopicArn"]
        dlq_url = (await sqs.create_queue(QueueName=DLQ_NAME))["QueueUrl"]
        await sqs.set_queue_attributes(
            QueueUrl=dlq_url, Attributes={"MessageRetentionPeriod": str(DLQ_RETENTION_S)}
        )
        queue_url = (await sqs.create_queue(QueueName=QUEUE_NAME))["QueueUrl"]
        queue_arn = await _queue_arn(sqs, queue_url)
        redrive = {"deadLetterTargetArn": await _queue_arn(sqs, dlq_url)}
        redrive["maxReceiveCount"] = str(max_receive_count)
        attributes: dict[QueueAttributeNameType, str] = {
            "RedrivePolicy": json.dumps(redrive),
            "VisibilityTimeout": str(visibility_timeout_s),
            "Policy": json.dumps(_queue_policy(queue_arn, topic_arn)),
        }
        await sqs.set_queue_attributes(QueueUrl=queue_url, Attributes=attributes)
        subscription_arn = await _subscribe(sns, topic_arn, queue_arn)
    return AwsResources(
        topic_arn=topic_arn,
        queue_url=queue_url,
        dlq_url=dlq_url,
        region=region,
        endpoint_url=endpoint_url,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        subscription_arn=subscription_arn,
        max_receive_count=max_receive_count,
    )


def filter_policy() -> dict[str, list[str]]:
    """Only R&M's event types reach our queue; the topic carries every HMPPS service's events."""
    return {"eventType": list(RM_EVENT_TYPES)}


async def _subscribe(sns: SNSClient, topic_arn: str, queue_arn: str) -> str:
    """Subscribe the queue (SNS returns the existing subscription on a repeat) and set its filter."""
    response = await sns.subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True
    )
    arn = response["SubscriptionArn"]
    # Set after subscribing, so a re-provision with a changed list updates an existing subscription.
    await sns.set_subscription_attributes(
        SubscriptionArn=arn, AttributeName="FilterPolicyScope", AttributeValue="MessageAttributes"
    )
    await sns.set_subscription_attributes(
        SubscriptionArn=arn,
        AttributeName="FilterPolicy",
        AttributeValue=json.dumps(filter_policy()),
    )
    # Not raw: the queue gets SNS's Notification JSON, as HMPPS consumers do.
    await sns.set_subscription_attributes(
        SubscriptionArn=arn, AttributeName="RawMessageDelivery", AttributeValue="false"
    )
    return arn


async def _queue_arn(sqs: SQSClient, queue_url: str) -> str:
    response = await sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return response["Attributes"]["QueueArn"]


def _queue_policy(queue_arn: str, topic_arn: str) -> dict[str, object]:
    """What real AWS needs before SNS may deliver into the queue (moto does not enforce it)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            }
        ],
    }


async def queue_depth(endpoint_url: str, queue_url: str, region: str = REGION) -> int:
    """Messages in a queue, visible or in flight (approximate, as SQS reports it)."""
    async with aws_clients(endpoint_url, region) as (_, sqs):
        response = await sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )
    attributes = response["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )
