"""A host's HDF written as JSON text with each control encoded once.

A fleet run writes every host's profiles twice (hdf/<host>.json and, renamed, results.hdf.json)
and hashes each twice (a profile's sha256 is that of its canonical JSON: sorted keys, no
whitespace), so every control's results went through the JSON encoder four times. Here each
control is encoded once canonically and once compactly, without its id, and the four texts are
joined from those pieces: byte for byte what json.dumps gives for the same data
(tests/evidence/test_evidence_hdf.py holds them equal). Only for data nothing changes while it
is written: the pieces are kept by the identity of the control dicts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class ControlPieces:
    """Each control of one host's profiles encoded once (see the module's docstring)."""

    def __init__(self) -> None:
        self._pieces: dict[int, tuple[Mapping[str, Any], tuple[str, str, str] | None]] = {}

    def _of(self, control: Mapping[str, Any]) -> tuple[str, str, str] | None:
        """(canonical keys before "id", canonical keys after it, compact text after it), or
        None when "id" is not the first key (then the control is encoded whole)."""
        found = self._pieces.get(id(control))
        if found is not None and found[0] is control:
            return found[1]
        pieces = None
        if isinstance(control, dict) and next(iter(control), None) == "id":
            rest = {k: v for k, v in control.items() if k != "id"}
            texts = sorted((k, f"{compact(k)}:{canonical(v)}") for k, v in rest.items())
            pieces = (",".join(t for k, t in texts if k < "id"),
                      ",".join(t for k, t in texts if k > "id"), compact(rest)[1:])
        self._pieces[id(control)] = (control, pieces)
        return pieces

    def controls(self, controls: list[Any], suffix: str, *, sort: bool) -> str:
        """The JSON list of the controls, each id followed by `suffix` (a fleet's "@host")."""
        texts = []
        for control in controls:
            pieces = self._of(control) if isinstance(control, Mapping) else None
            if pieces is None:
                value = {**control, "id": f"{control['id']}{suffix}"} if suffix else control
                texts.append(canonical(value) if sort else compact(value))
                continue
            before, after, rest = pieces
            name = f"{control['id']}{suffix}" if suffix else control["id"]
            if sort:
                texts.append("{" + ",".join(p for p in (before, f'"id":{canonical(name)}', after)
                                            if p) + "}")
            else:
                texts.append(f'{{"id":{compact(name)}' + ("}" if rest == "}" else f",{rest}"))
        return "[" + ",".join(texts) + "]"

    def profile(self, profile: Mapping[str, Any], *, sort: bool, suffix: str = "") -> str:
        """The profile's JSON: canonical without its sha256 (`sort`), else compact as it is."""
        items = [(k, v) for k, v in profile.items() if not (sort and k == "sha256")]
        if sort:
            items.sort(key=lambda kv: kv[0])
        encode = canonical if sort else compact
        return "{" + ",".join(
            f"{compact(k)}:" + (self.controls(v, suffix, sort=sort)
                                if k == "controls" and isinstance(v, list) else encode(v))
            for k, v in items) + "}"

    def sha256(self, profile: Mapping[str, Any], suffix: str = "") -> str:
        text = self.profile(profile, sort=True, suffix=suffix)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def document(self, document: Mapping[str, Any]) -> str:
        """A host's HDF document, compact, its profiles from the pieces."""
        return "{" + ",".join(
            f"{compact(k)}:" + ("[" + ",".join(self.profile(p, sort=False) for p in v) + "]"
                                if k == "profiles" and isinstance(v, list) else compact(v))
            for k, v in document.items()) + "}"

    def fleet_profile(self, profile: Mapping[str, Any], host: str) -> str:
        """compact(hdf._for_fleet(profile, host)): the profile renamed for the fleet file."""
        renamed = {k: v for k, v in profile.items() if k != "sha256"}
        renamed["name"] = f"{profile['name']}@{host}"
        renamed["title"] = f"{profile['title']} ({host})"
        renamed["groups"] = [{**group, "controls": [f"{cid}@{host}" for cid in group["controls"]]}
                             for group in profile["groups"]]
        renamed["sha256"] = self.sha256(renamed, f"@{host}")
        return self.profile(renamed, sort=False, suffix=f"@{host}")
