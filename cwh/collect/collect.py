"""Collect one host's facts in one remote PowerShell execution."""

from __future__ import annotations

import time

from cwh.collect.document import DocumentError, collection_warnings, parse_output
from cwh.collect.facts import HostFacts
from cwh.collect.request import FactRequest
from cwh.collect.script import build_collector
from cwh.errors import HostError
from cwh.inventory import Target
from cwh.transport.backend import host_for


def collect_host(target: Target, request: FactRequest) -> HostFacts:
    """Run the collector on one host through testinfra; never raises for host problems."""
    host = host_for(target.connection)
    started = time.monotonic()
    try:
        request_json = request.to_json(target.connection.command_timeout_sec)
        result = host.run(build_collector(request_json))
        document = parse_output(result.stdout_bytes, result.stderr_bytes, result.rc)
    except HostError as exc:
        return HostFacts.failed(target.name, str(exc))
    except DocumentError as exc:
        return HostFacts.failed(target.name, f"{target.name}: unusable collector output: {exc}")
    document["_collection"] = {
        "seconds": round(time.monotonic() - started, 3),
        "endpoint": target.connection.endpoint,
        "transport": target.connection.transport,
        "sections_requested": sorted(request.sections),
        "warnings": collection_warnings(result.stderr_bytes, result.rc),
    }
    return HostFacts(target.name, document)
