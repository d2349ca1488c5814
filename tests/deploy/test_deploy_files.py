"""The configuration files beside compose.yaml parse and agree with each other and the contracts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from gmirs_contracts.registry import topics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_topic_script_creates_every_published_topic() -> None:
    script = (DEPLOY / "kafka" / "create-topics.sh").read_text(encoding="utf-8")
    listed = re.search(r"^topics=\((.*)\)$", script, re.MULTILINE)
    assert listed is not None
    assert set(listed.group(1).split()) == topics()


def _load_yaml(relative: str) -> dict[str, Any]:
    document = yaml.safe_load((DEPLOY / relative).read_text(encoding="utf-8"))
    assert isinstance(document, dict), relative
    return document


def test_collector_pipelines_use_only_defined_components() -> None:
    config = _load_yaml("otel-collector/config.yaml")
    defined = {kind: set(config.get(kind, {})) for kind in ("receivers", "processors", "exporters")}
    connectors = set(config.get("connectors", {}))
    pipelines = config["service"]["pipelines"]
    assert {"traces", "metrics"} <= set(pipelines)
    for pipeline in pipelines.values():
        assert set(pipeline["receivers"]) <= defined["receivers"] | connectors
        assert set(pipeline.get("processors", [])) <= defined["processors"]
        assert set(pipeline["exporters"]) <= defined["exporters"] | connectors
    assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
    assert config["exporters"]["otlp/jaeger"]["endpoint"] == "jaeger:4317"


def test_prometheus_scrapes_the_collector_exporter() -> None:
    collector = _load_yaml("otel-collector/config.yaml")
    port = collector["exporters"]["prometheus"]["endpoint"].rsplit(":", 1)[1]
    config = _load_yaml("prometheus/prometheus.yml")
    targets = {
        t for job in config["scrape_configs"] for c in job["static_configs"] for t in c["targets"]
    }
    assert f"otel-collector:{port}" in targets


def test_grafana_provisioning_and_dashboard_agree() -> None:
    sources = _load_yaml("grafana/provisioning/datasources/datasources.yaml")["datasources"]
    uids = {source["uid"] for source in sources}
    assert {"prometheus", "jaeger"} <= uids
    provider = _load_yaml("grafana/provisioning/dashboards/dashboards.yaml")["providers"][0]
    assert provider["options"]["path"] == "/etc/grafana/dashboards"
    dashboards = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
    assert dashboards
    for path in dashboards:
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        assert dashboard["uid"]
        assert dashboard["panels"]
        used = {p["datasource"]["uid"] for p in dashboard["panels"] if "datasource" in p}
        assert used <= uids, path.name
