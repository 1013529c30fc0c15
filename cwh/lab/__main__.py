"""Run the lab: `python -m cwh.lab serve --inventory inventory/lab.yml`.

The plugin starts this in a subprocess for lab hosts (those with `cwh_lab_image`) and stops it
when the run ends; run it by hand to point other tools at the lab. It prints one line
`READY <json>` (or `ERROR <message>`) on stdout, then serves until stdin closes or it is
interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
from pathlib import Path

from cwh.errors import ConfigError
from cwh.inventory import load_inventory
from cwh.lab.fleet import LabFleet
from cwh.lab.winrm import RequestLog


def serve(args: argparse.Namespace) -> int:
    try:
        inventory = load_inventory(args.inventory, limit=args.limit)
        lab_targets = [t for t in inventory.targets if t.lab_image]
        if not lab_targets:
            raise ConfigError(f"inventory {args.inventory}: no host has cwh_lab_image")
        log_path = Path(args.request_log) if args.request_log else None
        if log_path:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log_path.write_text("")
        fleet = LabFleet(lab_targets, Path(args.inventory).parent, Path(args.state_dir),
                         RequestLog(log_path))
        fleet.start()
    except ConfigError as exc:
        print(f"ERROR {exc}", flush=True)
        return 2
    print("READY " + json.dumps([h.describe() for h in fleet.hosts]), flush=True)
    for host in fleet.hosts:
        where = host.endpoint.url if host.endpoint else "no WinRM (cwh_access: network)"
        print(f"lab: {host.target.name} ({host.image.name}) at {where}",
              file=sys.stderr, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # The parent closes our stdin to stop us; a lab started by hand stops on Ctrl-C.
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    fleet.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cwh.lab", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve the lab hosts of an inventory")
    run.add_argument("--inventory", default="inventory/lab.yml")
    run.add_argument("--limit", default=None)
    run.add_argument("--state-dir", default=".cwh-lab")
    run.add_argument("--request-log", default=None, help="JSON lines of every WinRM request")
    args = parser.parse_args(argv)
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
