"""Drive headless Debian Chromium through the Node package playwright-core (read_pages.mjs), from
the repository's own node_modules, and hand back what the pages showed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from tests.e2e.audit_run import REPO

CHROMIUM = Path(os.environ.get("CWH_CHROMIUM", "/usr/bin/chromium"))  # as tests/readers
SCRIPT = Path(__file__).with_name("read_pages.mjs")
PLAYWRIGHT = REPO / "node_modules" / "playwright-core"


def unavailable() -> str | None:
    """Why the browser tests cannot run here (None: they can)."""
    if shutil.which("node") is None:
        return "node is not installed (Debian package nodejs)"
    if not (PLAYWRIGHT / "package.json").is_file():
        return (f"playwright-core is not installed in {REPO / 'node_modules'} "
                "(npm install playwright-core@1.65.1)")
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is absent (Debian package chromium)"
    return None


def read_pages(pages: list[dict[str, Any]], timeout: float = 180) -> list[dict[str, Any]]:
    """Open each page in one fresh browser profile; see read_pages.mjs for the page specs."""
    with tempfile.TemporaryDirectory(prefix="cwh-chromium-") as tmp:
        job = Path(tmp) / "job.json"
        profile = Path(tmp) / "profile"
        profile.mkdir()
        job.write_text(json.dumps({"repo": str(REPO), "profile": str(profile), "pages": pages,
                                   "chromium": str(CHROMIUM)}))
        completed = subprocess.run(["node", str(SCRIPT), str(job)], capture_output=True,
                                   text=True, timeout=timeout, cwd=tmp)
    if completed.returncode != 0:
        raise RuntimeError(f"read_pages.mjs failed ({completed.returncode}): "
                           f"{completed.stderr[-3000:]}")
    return json.loads(completed.stdout)


def page(path: Path, **spec: Any) -> dict[str, Any]:
    return {"url": path.resolve().as_uri(), **spec}
