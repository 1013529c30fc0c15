"""Write every artifact of a run into the report directory, and a manifest of their hashes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from cwh.version import suite_version

if TYPE_CHECKING:
    from cwh.audit import Audit

MANIFEST = "manifest.json"


def run_metadata(audit: Audit, config: pytest.Config) -> dict[str, Any]:
    return {
        "suite_version": suite_version(),
        "catalog_version": audit.catalog.version,
        "inventory": audit.inventory_path,
        "markers": config.getoption("markexpr") or "",
        "started": audit.started.isoformat(timespec="seconds"),
        "hosts": sorted(audit.targets),
        "fail_on": audit.options.fail_on,
        "waivers": audit.options.waivers,
        "benchmarks": sorted(audit.benchmarks),
    }


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(report_dir: Path, artifacts: list[Path]) -> Path:
    """SHA-256 of every artifact this run wrote, so evidence can be shown to be unaltered."""
    entries = [{"path": str(p.relative_to(report_dir)), "sha256": sha256_of(p),
                "bytes": p.stat().st_size} for p in sorted(set(artifacts)) if p.exists()]
    return write_json(report_dir / MANIFEST, {"algorithm": "sha256", "artifacts": entries})


def write_reports(audit: Audit, records: list[dict[str, Any]], config: pytest.Config) -> \
        list[Path]:
    meta = run_metadata(audit, config)
    written = [write_json(audit.report_dir / "results.json", {
        "run": meta, "hosts": audit.assets, "host_errors": audit.host_errors,
        "results": records})]
    # Files other plugins wrote for this run (pytest-html, junitxml) belong in the manifest too.
    for option in ("htmlpath", "xmlpath"):
        value = getattr(config.option, option, None)
        if value and Path(value).exists():
            written.append(Path(value).resolve())
    lab_log = audit.report_dir / "lab-requests.jsonl"
    if audit.lab is not None and lab_log.exists():
        written.append(lab_log)
    inside = [p for p in written if audit.report_dir.resolve() in p.resolve().parents]
    written.append(write_manifest(audit.report_dir.resolve(), [p.resolve() for p in inside]))
    return written
