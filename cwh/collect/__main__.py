"""Show what the collector gathers from hosts: `python -m cwh.collect --inventory my.yml`.

Runs the collector with every section (or those named) against the selected hosts and prints
each host's facts document as JSON, so an admin can see exactly what the judges will read. Exits
non-zero when a host cannot be reached or any section failed, which is how the Windows CI
workflow proves the PowerShell on a real Windows host.
"""

from __future__ import annotations

import argparse
import json
import sys

from cwh.catalog.model import load_catalog
from cwh.collect.collect import collect_host
from cwh.collect.request import SECTION_ORDER, FactRequest, request_for
from cwh.errors import ConfigError
from cwh.inventory import load_inventory
from cwh.judge.attestation import check_attestations


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cwh.collect", description=__doc__)
    parser.add_argument("--inventory", required=True)
    parser.add_argument("--limit", default=None)
    parser.add_argument("--sections", default="all",
                        help="comma separated, or 'all' (default): " + ", ".join(SECTION_ORDER))
    parser.add_argument("--allow-failed", default="",
                        help="sections whose failure is expected here (e.g. screenconnect)")
    args = parser.parse_args(argv)
    catalog = load_catalog()
    try:
        inventory = load_inventory(args.inventory, limit=args.limit, known_controls=catalog.ids)
        check_attestations(inventory.path, inventory.targets)  # the audit's own input checks
    except ConfigError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 4
    # Every control's registry values and features, so the registry section is exercised too.
    request = request_for(catalog.controls)
    if args.sections != "all":
        wanted = {s.strip() for s in args.sections.split(",") if s.strip()}
        request = FactRequest(sections=wanted, registry=request.registry,
                              features=request.features)
    else:
        request.sections = set(SECTION_ORDER)
    allowed = {s.strip() for s in args.allow_failed.split(",") if s.strip()}
    failures = 0
    for target in inventory.targets:
        if target.network_only:  # never contacted over WinRM: nothing to collect
            print(f"SKIP {target.name}: cwh_access: network (no host access)", file=sys.stderr)
            continue
        facts = collect_host(target, request)
        if facts.document is None:
            print(f"ERROR {facts.error}", file=sys.stderr)
            failures += 1
            continue
        print(json.dumps({"host": target.name, "document": facts.document}, indent=2))
        for warning in facts.warnings:
            print(f"WARNING {target.name}: {warning}", file=sys.stderr)
        for name, section in facts.document["sections"].items():
            if not section.get("ok") and name not in allowed:
                print(f"ERROR {target.name}: section {name} failed: {section.get('error')}",
                      file=sys.stderr)
                failures += 1
    return 6 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
