"""How ``imgmgr cost`` writes its numbers and tables: decimals without exponents, usage quantities and
US dollar amounts in a few characters each, the price and free-tier table (``price_table``) and the
line items of one or more estimates (``estimate_table``)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from rich import box
from rich.table import Table

from imgmgr.cost.model import Estimate
from imgmgr.cost.prices import PRICES, PRICES_AS_OF, REGION, Price

#: What each kind of free allowance is called in the tables.
_KIND_LABELS = {"always": "always", "12 months": "12 mo", "none": "never"}


def plain_decimal(value: float, significant: int = 6) -> str:
    """``value`` rounded to ``significant`` digits in positional notation, never ``1e-05``:
    ``0.0000133334``, ``0.0000002``, ``1234.5``."""
    if value == 0:
        return "0"
    text = format(Decimal(f"{value:.{significant}g}"), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def quantity_text(value: float) -> str:
    """A usage quantity in at most 9 characters: ``0.00048``, ``4.86``, ``9,999,999``, ``31.2 M``, ``2.07 bn``."""
    if value == 0:
        return "0"
    if value < 10:
        return plain_decimal(value, 3)
    if value < 10_000_000:
        return f"{value:,.0f}"
    return _scaled(value)


def _scaled(value: float) -> str:
    """A value of a million or more in millions, billions or trillions, 3 significant digits."""
    scale, suffix = next((s, x) for s, x in ((1e12, "tn"), (1e9, "bn"), (1e6, "M")) if value >= s)
    scaled = value / scale
    return f"{scaled:,.0f} {suffix}" if scaled >= 1000 else f"{plain_decimal(scaled, 3)} {suffix}"


def usd_text(value: float) -> str:
    """An amount in US dollars in at most 10 characters: with cents (``1,234.56``), ``<0.01`` for a
    positive amount below half a cent (not ``0.00``), from a million in millions (``1.2 M``) and more."""
    if 0 < value < 0.005:
        return "<0.01"
    if value >= 1_000_000:
        return _scaled(value)
    return f"{value:,.2f}"


def _count_text(value: float) -> str:
    return f"{value / 1e6:g}M" if value >= 1e6 else f"{value:,.0f}"


def _quote(price: Price) -> tuple[str, str]:
    """Price and its unit as the table quotes them: ``("0.20", "1M requests")``, ``("0.023", "GB-month")``."""
    if price.quoted_per == 1:
        return plain_decimal(price.usd_per_unit), price.unit
    return plain_decimal(price.usd_per_unit * price.quoted_per), f"{_count_text(price.quoted_per)} {price.unit}s"


def price_table() -> Table:
    """The price and free-tier table (the sources and the date are under it in ``print_estimate``)."""
    table = Table(title=f"AWS list prices, {REGION}, as of {PRICES_AS_OF}", box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("service and item", ratio=1, min_width=16)
    table.add_column("USD", justify="right", no_wrap=True)
    table.add_column("per")
    table.add_column("free/month", justify="right", no_wrap=True)
    table.add_column("for", no_wrap=True)
    for price in PRICES.values():
        usd, per = _quote(price)
        free = quantity_text(price.free_per_month) if price.free_kind != "none" else "-"
        table.add_row(f"{price.service} {price.item}", usd, per, free, _KIND_LABELS[price.free_kind])
    return table


def estimate_table(columns: Mapping[str, Estimate]) -> Table:
    """The line items of one or more estimates of the same volume, one USD column each (by heading), and
    their totals; usage and free allowance are those of the first."""
    first = next(iter(columns.values()))
    table = Table(box=box.SIMPLE_HEAD, show_footer=True)
    table.add_column("line", footer="total a month", ratio=1, min_width=12)
    table.add_column("used", justify="right", no_wrap=True)
    table.add_column("free", justify="right", no_wrap=True)
    table.add_column("for", no_wrap=True)
    for heading, result in columns.items():
        table.add_column(heading, justify="right", no_wrap=True, footer=usd_text(result.total_usd))
    for item in first.items:
        table.add_row(
            item.price.label,
            quantity_text(item.quantity),
            quantity_text(item.free) if item.price.free_kind != "none" else "-",
            _KIND_LABELS[item.price.free_kind] if item.free or item.price.free_kind == "none" else "-",
            *(usd_text(result.item(item.key).cost_usd) for result in columns.values()),
        )
    return table
