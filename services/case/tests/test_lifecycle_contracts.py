"""The lifecycle's vocabulary is the published one: every event it names has a contract."""

from __future__ import annotations

from typing import get_args

import yaml

from gmirs_case.domain.closure import ClosureReason, RmDeliveryState
from gmirs_case.domain.lifecycle import CaseState, EventName, Source
from gmirs_case.handlers import rm_progress
from gmirs_contracts import case_lifecycle, common
from gmirs_contracts.case import TOPIC
from gmirs_contracts.intake_progress import DeliveryState
from gmirs_contracts.registry import EVENTS, contracts_dir


def test_every_lifecycle_event_is_a_registered_contract_on_the_case_topic() -> None:
    for name in EventName:
        contract = EVENTS[f"gmirs.case.{name.value}.v1"]
        assert contract.topic == TOPIC
        assert contract.model.__module__ == case_lifecycle.__name__


def test_states_reasons_and_sources_are_spelled_as_published() -> None:
    assert set(get_args(case_lifecycle.CaseState)) == {state.value for state in CaseState}
    assert set(get_args(case_lifecycle.ClosureReason)) == {r.value for r in ClosureReason}
    assert set(get_args(common.Source)) == {source.value for source in Source}
    assert set(get_args(DeliveryState)) == {state.value for state in RmDeliveryState}


def test_the_asyncapi_receive_operation_lists_every_event_case_subscribes_to() -> None:
    document = yaml.safe_load((contracts_dir() / "asyncapi.yaml").read_text(encoding="utf-8"))
    on_channel = document["channels"]["referralEvents"]["messages"]
    received = document["operations"]["caseReceivesReferralEvents"]["messages"]
    keys = [on_channel[ref["$ref"].rsplit("/", 1)[1]]["$ref"].rsplit("/", 1)[1] for ref in received]
    documented = {document["components"]["messages"][key]["name"] for key in keys}
    subscribed = {s.ce_type for s in rm_progress.subscriptions()}
    assert documented == subscribed | {"gmirs.intake.referral-received.v1"}
