"""The one price table transfer estimates read: what moving a GB out of a provider costs.

Each provider declares its own figures (the core names no cloud): ``egress``, data leaving
the cloud for the internet (another cloud), and optionally ``inter_region``, data moving
between two of its own regions. Every figure is a :class:`Price` with the date it was read
and the page to check it again. This module is the only reader: warnings, ``summary()``, the
plan's cost and the README all ask :func:`transfer_price`, so there is one table to update.
A provider that declares no ``inter_region`` price gets None (shown as "price unknown"),
never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

from glacier.compilation.provider import Price
from glacier.compilation.registry import available_providers, get_provider


@dataclass(frozen=True)
class PriceRow:
    """One row of the table: moving data out of ``provider`` in ``scope``."""

    provider: str
    scope: str  # "internet egress" (to another cloud) or "inter-region"
    price: Price

    def __str__(self) -> str:
        p = self.price
        return f"{self.provider} {self.scope}: ${p.usd:.3f}/{p.unit} (as of {p.as_of}, {p.source})"


def _declared(provider: str, attribute: str) -> Price | None:
    if provider not in available_providers():
        return None
    price = getattr(get_provider(provider), attribute, None)
    return price if isinstance(price, Price) else None


def transfer_price(from_provider: str, to_provider: str, cross_region: bool) -> Price | None:
    """The per-GB price of moving data out of ``from_provider``: its internet egress when the
    data goes to another provider, its inter-region price when it stays with the provider but
    changes region; None when the provider declares no such price (or is not installed)."""
    if from_provider != to_provider:
        return _declared(from_provider, "egress")
    return _declared(from_provider, "inter_region") if cross_region else None


def price_table(providers: list[str]) -> list[PriceRow]:
    """The rows for ``providers``: what every transfer figure in a plan comes from."""
    rows = []
    for name in sorted(providers):
        for scope, attribute in (("internet egress", "egress"), ("inter-region", "inter_region")):
            price = _declared(name, attribute)
            if price is not None:
                rows.append(PriceRow(name, scope, price))
    return rows


__all__ = ["PriceRow", "price_table", "transfer_price"]
