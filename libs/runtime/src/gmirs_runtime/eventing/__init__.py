"""Reliable eventing: CloudEvents over Kafka, transactional outbox, inbox, consumer loop, dead letters.

Exactly-once effects come from the outbox (publish after commit, at least once) plus the inbox
(a duplicate is recognised in the handler's own transaction), never from Kafka transactions.
"""
