#!/bin/bash
# One-shot: create the published topics (idempotent). Runs in the apache/kafka image after the
# broker is healthy; the services start only when this has exited 0.
#
# Topics keep events for ever (retention.ms=-1): metrics rebuilds its read models from them.
# Per-group `<topic>.<group>.dlt` / `.retry` topics are created on first use by the broker
# (auto-create, KAFKA_NUM_PARTITIONS partitions).
set -euo pipefail

bootstrap="${KAFKA_BOOTSTRAP:-kafka:9092}"
partitions="${TOPIC_PARTITIONS:-6}"
replication="${TOPIC_REPLICATION_FACTOR:-1}"
topics=(intake.referral-events.v1 case.case-events.v1 notify.delivery-events.v1)

for topic in "${topics[@]}"; do
    /opt/kafka/bin/kafka-topics.sh --bootstrap-server "${bootstrap}" --create --if-not-exists \
        --topic "${topic}" --partitions "${partitions}" --replication-factor "${replication}" \
        --config retention.ms=-1 --config cleanup.policy=delete
    /opt/kafka/bin/kafka-topics.sh --bootstrap-server "${bootstrap}" --describe --topic "${topic}" \
        | sed -n 1p
done
