"""ASP.NET `<machineKey>` elements in a web.config, and whether they hold plaintext keys.

A plaintext key is a validationKey or decryptionKey attribute with a value that is not one of
ASP.NET's AutoGenerate forms (`AutoGenerate`, `AutoGenerate,IsolateApps`, ...), in a section
that is not protected (a protected section holds `<EncryptedData>` and no key attributes). A
section kept in another file (`configSource`) was not read, so it can tell nothing.

The key values never leave this module: a finding says which attribute holds how many
characters, never the characters.
"""

from __future__ import annotations

from dataclasses import dataclass

from cwh.parse.webconfig import WebConfigError, load_config_xml

KEY_ATTRIBUTES = ("validationKey", "decryptionKey")


@dataclass(frozen=True)
class MachineKey:
    where: str  # "system.web" or "location path=... / system.web"
    plaintext: tuple[str, ...]  # "validationKey (128 characters)", never the value
    protected: bool
    config_source: str | None

    def describe(self) -> str:
        if self.config_source is not None:
            return f"<machineKey configSource={self.config_source!r}> in {self.where}"
        if self.protected:
            return f"protected <machineKey> (EncryptedData) in {self.where}"
        if self.plaintext:
            return f"plaintext {', '.join(self.plaintext)} in {self.where}"
        return f"<machineKey> without keys of its own (AutoGenerate) in {self.where}"


def _auto(value: str) -> bool:
    return value.strip().lower().startswith("autogenerate")


def machine_keys(text: str) -> list[MachineKey]:
    """Every `<machineKey>` under `system.web`, at the root and in `<location>` elements.
    WebConfigError when the file cannot be read safely."""
    root = load_config_xml(text, name="web.config")
    scopes = [("system.web", root)] + [
        (f"location path={loc.get('path', '')!r} / system.web", loc)
        for loc in root.findall("location")]
    found = []
    for where, scope in scopes:
        for element in scope.findall("system.web/machineKey"):
            plaintext = tuple(f"{name} ({len(element.get(name, '').strip())} characters)"
                              for name in KEY_ATTRIBUTES
                              if element.get(name, "").strip() and not _auto(element.get(name)))
            protected = element.get("configProtectionProvider") is not None or \
                element.find("EncryptedData") is not None or \
                any(child.tag.endswith("}EncryptedData") for child in element)
            found.append(MachineKey(where, plaintext, protected, element.get("configSource")))
    return found


__all__ = ["KEY_ATTRIBUTES", "MachineKey", "WebConfigError", "machine_keys"]
