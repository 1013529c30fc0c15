"""The lab's side of the collector's IIS site scan: the web.config files under the physical path
of each virtual directory of applicationHost.config's sites, found the way collector.ps1's
Get-CwhIisSiteConfigs finds them (subfolders included) in a host image's file list.

Image keys (under `iis`): `files` (full path -> the file's text, or `{error: <text>}` when
reading it fails) and `dir_errors` (physical path -> the error listing that directory gives).
"""

from __future__ import annotations

import re

import defusedxml.ElementTree as DefusedET
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden


class SiteConfigsError(Exception):
    """The scan fails as a whole; the message is what PowerShell would report."""


_ENVIRONMENT = {"systemdrive": "C:", "systemroot": r"C:\Windows", "windir": r"C:\Windows"}
_DTD_PROHIBITED = ('Exception calling "Load" with "1" argument(s): "For security reasons DTD is '
                   'prohibited in this XML document. To enable DTD processing set the '
                   'DtdProcessing property on XmlReaderSettings to Parse and pass the settings '
                   'into XmlReader.Create method."')
MAX_IIS_SITE_CONFIGS = 500  # as collector.ps1's $MaxIisSiteConfigs


def _expand(path: str) -> str:
    """[Environment]::ExpandEnvironmentVariables: known variables expand, others stay."""
    return re.sub(r"%([^%]+)%", lambda m: _ENVIRONMENT.get(m.group(1).lower(), m.group(0)),
                  path)


def _text_size_error(path: str, text: str, max_text_bytes: int) -> str | None:
    size = len(text.encode("utf-8"))
    if size > max_text_bytes:
        return f"{path} is {size} bytes, over the collector's limit of {max_text_bytes}"
    return None


def find_site_configs(config_text: str, iis: dict, max_text_bytes: int) -> list[dict]:
    """What Get-CwhIisSiteConfigs finds: every web.config (image key `files`, path -> text or
    {error}) under each virtual directory's physical path (`dir_errors`: path -> error)."""
    try:
        root = DefusedET.fromstring(config_text, forbid_dtd=True, forbid_entities=True,
                                    forbid_external=True)
    except DTDForbidden:
        raise SiteConfigsError(_DTD_PROHIBITED) from None
    except (DefusedET.ParseError, EntitiesForbidden, ExternalReferenceForbidden) as exc:
        raise SiteConfigsError(f'Exception calling "Load" with "1" argument(s): "{exc}"') \
            from None
    files = {str(k): v for k, v in (iis.get("files") or {}).items()}
    dir_errors = {str(k).lower(): v for k, v in (iis.get("dir_errors") or {}).items()}
    entries: list[dict] = []
    remaining, count = max_text_bytes, 0
    for site in root.findall("system.applicationHost/sites/site"):
        for app in site.findall("application"):
            for vdir in app.findall("virtualDirectory"):
                physical = _expand(vdir.get("physicalPath", ""))
                where = {"site": site.get("name", ""), "application": app.get("path", ""),
                         "virtual_directory": vdir.get("path", ""), "physical_path": physical,
                         "relative_dir": None, "path": None, "text": None, "error": None}
                prefix = physical.rstrip("\\").lower() + "\\"
                if physical.rstrip("\\").lower() in dir_errors or not physical:
                    entries.append({**where, "error": dir_errors.get(
                        physical.rstrip("\\").lower(), "The path is not of a legal form.")})
                    continue
                for path in sorted(p for p in files if p.lower().startswith(prefix) and
                                   p.lower().rsplit("\\", 1)[-1] == "web.config"):
                    count += 1
                    if count > MAX_IIS_SITE_CONFIGS:
                        raise SiteConfigsError(f"more than {MAX_IIS_SITE_CONFIGS} web.config "
                                             "files under the sites' physical paths")
                    entry = {**where, "path": path,
                             "relative_dir": path[len(prefix):].rpartition("\\")[0]}
                    content = files[path]
                    if isinstance(content, dict):
                        entry["error"] = str(content.get("error"))
                    elif (error := _text_size_error(path, str(content), max_text_bytes)):
                        entry["error"] = error
                    else:
                        remaining -= len(str(content))
                        if remaining < 0:
                            entry["error"] = ("the sites' web.config files together are over "
                                              "the collector's limit of "
                                              f"{max_text_bytes} bytes")
                        else:
                            entry["text"] = str(content)
                    entries.append(entry)
    return entries
