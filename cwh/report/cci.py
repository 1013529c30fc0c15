"""NIST SP 800-53 controls for CCIs, from DISA's CCI list (U_CCI_List.xml), read in place.

The list maps each Control Correlation Identifier to the NIST SP 800-53 controls it implements,
once per revision of 800-53 (3, 4, 5) plus 800-53A assessment procedures. A CCI's NIST tags are
the indexes of the newest 800-53 revision the list names for it (800-53A is not a control
catalogue and is left out), as Heimdall's own CCI converter picks the newest reference. A CCI the
list does not name gets no tag: the mapping is DISA's, never guessed.

    <cci_list xmlns="http://iase.disa.mil/cci">
      <metadata><version>2024-09-05</version>...</metadata>
      <cci_items>
        <cci_item id="CCI-000366">
          <references>
            <reference creator="NIST" title="NIST SP 800-53 Revision 4" version="4"
                       location="..." index="CM-6 b" />
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from defusedxml import ElementTree

from cwh.errors import ConfigError

CCI_NS = "http://iase.disa.mil/cci"
_NS = {"c": CCI_NS}
# "NIST SP 800-53", "NIST SP 800-53 Revision 4", ...; never "NIST SP 800-53A".
_SP_800_53 = re.compile(r"^NIST SP 800-53(?: Revision \d+)?$")


class CciListError(ConfigError):
    """The file given as a CCI list cannot be used (message names the file)."""


@dataclass(frozen=True)
class CciList:
    path: Path
    version: str  # metadata/version, e.g. 2024-09-05
    nist: dict[str, tuple[str, ...]] = field(repr=False)  # CCI -> 800-53 indexes
    revision: dict[str, int] = field(repr=False)  # CCI -> the 800-53 revision those come from

    def nist_for(self, ccis: Iterable[str]) -> list[str]:
        """The NIST tags of these CCIs, each once, in order; [] when the list names none."""
        return list(dict.fromkeys(tag for cci in ccis for tag in self.nist.get(cci.strip(), ())))

    def describe(self) -> str:
        revisions = sorted(set(self.revision.values()))
        named = ", ".join(str(r) for r in revisions) or "none"
        return (f"NIST SP 800-53 tags from DISA's CCI list {self.path.name} (version "
                f"{self.version or 'not stated'}; the newest revision each CCI names: {named})")


def _newest_references(item: object) -> tuple[int, tuple[str, ...]]:
    found: dict[int, list[str]] = {}
    for ref in item.findall("c:references/c:reference", _NS):  # type: ignore[attr-defined]
        title = " ".join((ref.get("title") or "").split())
        index = " ".join((ref.get("index") or "").split())
        version = (ref.get("version") or "").strip()
        if _SP_800_53.match(title) and index and version.isdigit():
            found.setdefault(int(version), []).append(index)
    if not found:
        return 0, ()
    newest = max(found)
    return newest, tuple(dict.fromkeys(found[newest]))


def load_cci_list(path: str | Path) -> CciList:
    """Parse DISA's CCI list. Raises CciListError naming the file when it cannot be read or is
    not a CCI list."""
    path = Path(path)
    try:
        root = ElementTree.parse(path).getroot()
    except OSError as exc:
        raise CciListError(f"--cci-list {path}: cannot read it ({exc.strerror or exc})") from None
    except ElementTree.ParseError as exc:
        raise CciListError(f"--cci-list {path}: not readable XML ({exc})") from None
    except Exception as exc:  # defusedxml refuses entities and DTDs: say so, never a traceback
        raise CciListError(f"--cci-list {path}: refused ({type(exc).__name__}: {exc})") from None
    if root.tag != f"{{{CCI_NS}}}cci_list":
        raise CciListError(f"--cci-list {path}: not a DISA CCI list (root element {root.tag}, "
                           f"expected cci_list in {CCI_NS})")
    nist: dict[str, tuple[str, ...]] = {}
    revision: dict[str, int] = {}
    for item in root.findall("c:cci_items/c:cci_item", _NS):
        cci = (item.get("id") or "").strip()
        newest, indexes = _newest_references(item)
        if cci and indexes:
            nist[cci], revision[cci] = indexes, newest
    if not nist:
        raise CciListError(f"--cci-list {path}: no CCI in it names a NIST SP 800-53 control")
    version = root.findtext("c:metadata/c:version", default="", namespaces=_NS).strip()
    return CciList(path=path, version=version, nist=nist, revision=revision)


CCI_KEY = pytest.StashKey[CciList]()


def configure(config: pytest.Config) -> None:
    """--cci-list FILE: read the list when the run starts, so a bad file stops it (exit 4)
    before any host is contacted; the HDF writer finds it in config.stash[CCI_KEY]."""
    path = config.getoption("cci_list", default=None)
    if not path:
        return
    try:
        config.stash[CCI_KEY] = load_cci_list(Path(config.invocation_params.dir) / path)
    except CciListError as exc:
        raise pytest.UsageError(str(exc)) from None
