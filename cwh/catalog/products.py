"""The products a host may run, and how the collector recognises each one (data).

A control names the products it applies to (catalog field `products`; the default is every
product, for the Windows-level controls the guides share). Which products a host runs is
detected from its services and install paths, both collected in the host's one round trip, and
may be declared in the inventory (`cwh_products`), which wins.

Service names are the server's own: a ScreenConnect client (`ScreenConnect Client (<hash>)`)
or an Automate agent (`LTService`, `LTSvcMon`) on a server says nothing about what it hosts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Product:
    name: str  # as the catalog, the inventory and the markers write it
    title: str
    services: tuple[str, ...]  # server service names (Windows compares them case-insensitively)
    paths: tuple[str, ...]  # install paths whose existence marks an install (%VAR% expanded)
    source: str  # where the names come from (docs reference), for the evidence


PRODUCTS: dict[str, Product] = {
    "screenconnect": Product(
        name="screenconnect",
        title="ConnectWise ScreenConnect",
        services=("ScreenConnect Web Server", "ScreenConnect Relay",
                  "ScreenConnect Session Manager", "ScreenConnect Security Manager"),
        paths=(r"%ProgramFiles(x86)%\ScreenConnect\Bin\ScreenConnect.Service.exe",
               r"%ProgramFiles%\ScreenConnect\Bin\ScreenConnect.Service.exe"),
        source="screenconnect.md sections 1 and 2",
    ),
    "automate": Product(
        name="automate",
        title="ConnectWise Automate",
        # LTAgent is the Automate server's database agent, LabMySQL the MySQL service its
        # installer registers (the name community scripts find in mysqld's image path).
        services=("LTAgent", "LabMySQL"),
        paths=(r"%ProgramFiles(x86)%\LabTech\LTAgent.exe", r"%ProgramFiles%\LabTech\LTAgent.exe",
               r"%SystemDrive%\LTShare"),
        source="screenconnect.md section 9 (LTShare); service names: community scripts "
               "(UNCONFIRMED by ConnectWise documentation)",
    ),
}
PRODUCT_NAMES: tuple[str, ...] = tuple(PRODUCTS)
ALL_PRODUCTS: frozenset[str] = frozenset(PRODUCTS)


def service_patterns() -> tuple[str, ...]:
    """Every product's server services, as the `-like` patterns the request carries."""
    return tuple(name for product in PRODUCTS.values() for name in product.services)


def install_paths() -> tuple[str, ...]:
    """Every product's install paths, as the request carries them."""
    return tuple(path for product in PRODUCTS.values() for path in product.paths)


def products_problem(value: object) -> str | None:
    """Why a `products` list (catalog or inventory) is not valid, or None."""
    if not isinstance(value, list) or not value:
        return f"must be a non-empty list of products ({', '.join(PRODUCT_NAMES)})"
    unknown = [v for v in value if v not in PRODUCTS]
    if unknown:
        return f"names unknown product {unknown[0]!r} (known: {', '.join(PRODUCT_NAMES)})"
    if len(set(value)) != len(value):
        return "lists a product twice"
    return None
