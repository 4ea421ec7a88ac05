"""``imgmgr cost`` itself: the kinds of account, of table billing and of user pool plan it models, the
budget it compares the estimate with (``configured_budget``), the paragraphs under the tables
(``report_lines``), the printed report (``print_estimate``) and the command (``cost_command``)."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.console import Console

from constructs_lib.cost_guard_props import REKOGNITION_IMAGES_BUDGET, REKOGNITION_USD_PER_IMAGE, CostGuardProps
from constructs_lib.props import BillingMode, CognitoFeaturePlan, CognitoProps, ImagePipelineProps
from imgmgr.cost.formatting import estimate_table, plain_decimal, price_table, usd_text
from imgmgr.cost.model import (
    READ_UNITS_PER_IMAGE,
    READ_UNITS_PER_RECORD_READ,
    TABLE_PARTS,
    USER_POOL_PRICE_KEYS,
    WRITE_UNITS_PER_IMAGE,
    Comparison,
    Estimate,
    compare,
    credit_months,
    first_billed,
    on_demand_usd_per_image,
)
from imgmgr.cost.prices import (
    ACTIVITY_CREDITS_USD,
    CREDITS_EXPIRE_MONTHS,
    FREE_PLAN_MONTHS,
    NOT_INCLUDED,
    PRICES,
    PRICES_AS_OF,
    REGION,
    SIGN_UP_CREDITS_USD,
    UNTAGGED,
)
from stacks.settings import ENV_PREFIX, Settings, SettingsError

#: Widest output of ``print_estimate``: an 80-column terminal.
MAX_WIDTH = 80


class Account(StrEnum):
    """Which kind of AWS account ``imgmgr cost`` models."""

    LEGACY = "legacy"
    CREDITS = "credits"
    BOTH = "both"


class TableBilling(StrEnum):
    """Billing modes of the table ``imgmgr cost`` models (``ImagePipelineProps.billing_mode``)."""

    PAY_PER_REQUEST = "PAY_PER_REQUEST"
    PROVISIONED = "PROVISIONED"


#: ``--billing-mode``'s default: ``ImagePipelineProps``'.
DEFAULT_TABLE_BILLING = TableBilling(ImagePipelineProps.billing_mode)


class UserPoolPlan(StrEnum):
    """Feature plans of the user pool ``imgmgr cost`` models (``CognitoProps.feature_plan``)."""

    LITE = "LITE"
    ESSENTIALS = "ESSENTIALS"


#: ``--user-pool-plan``'s default: ``CognitoProps``'.
DEFAULT_USER_POOL_PLAN = UserPoolPlan(CognitoProps.feature_plan)


@dataclass(frozen=True, kw_only=True)
class Budget:
    """The monthly budget the estimate is compared with, and where its amount comes from."""

    usd: float
    source: str
    region: str = REGION


def configured_budget(project_dir: Path, environ: Mapping[str, str]) -> Budget:
    """The deployment's ``monthly_budget_usd`` and region (``stacks.settings``: the environment, then
    ``cdktf.json``, then the default, which is ``CostGuardProps``' too). Raises ``SettingsError``."""
    settings = Settings.from_project(project_dir, environ)
    env_name = f"{ENV_PREFIX}MONTHLY_BUDGET_USD"
    if env_name in environ:
        source = f"environment variable {env_name}"
    elif "monthly_budget_usd" in _context(project_dir):
        source = "cdktf.json context imgmgr.monthly_budget_usd"
    else:
        source = "the default of the monthly_budget_usd setting"
    return Budget(usd=settings.monthly_budget_usd, source=source, region=settings.region)


def _context(project_dir: Path) -> Mapping[str, object]:
    path = project_dir / "cdktf.json"
    if not path.exists():
        return {}
    context = json.loads(path.read_text(encoding="utf-8")).get("context", {}).get("imgmgr", {})
    return context if isinstance(context, dict) else {}


def _growth_text(thresholds: Mapping[str, float | None]) -> str:
    """Which lines are billed at any volume, and which free allowance is used up first as images grow."""
    always = [PRICES[key].label for key, images in thresholds.items() if images == 0]
    first = first_billed(thresholds)
    parts = [f"Billed at any volume: {', '.join(always)}." if always else "Nothing is billed at a low volume."]
    if first is None:
        parts.append("No free allowance runs out as images grow.")
    else:
        parts.append(
            f"The first free allowance to run out: {PRICES[first[0]].label}, beyond {math.floor(first[1]):,} images a month."
        )
    return " ".join(parts)


def _credits_text(monthly_usd: float) -> str:
    sign_up = credit_months(monthly_usd, SIGN_UP_CREDITS_USD)
    most = credit_months(monthly_usd, SIGN_UP_CREDITS_USD + ACTIVITY_CREDITS_USD)
    amounts = f"the {SIGN_UP_CREDITS_USD:.0f} USD sign-up credits ({SIGN_UP_CREDITS_USD + ACTIVITY_CREDITS_USD:.0f} USD with the activity credits)"
    if sign_up == math.inf:
        life = f"{amounts} are not touched; they expire {CREDITS_EXPIRE_MONTHS} months after sign-up."
    elif sign_up >= CREDITS_EXPIRE_MONTHS:
        life = f"{amounts} outlast the {CREDITS_EXPIRE_MONTHS} months after sign-up when they expire."
    else:
        most_text = (
            f"outlast their {CREDITS_EXPIRE_MONTHS} months"
            if most >= CREDITS_EXPIRE_MONTHS
            else f"{plain_decimal(most, 2)} months"
        )
        life = (
            f"the {SIGN_UP_CREDITS_USD:.0f} USD sign-up credits last {plain_decimal(sign_up, 2)} months, "
            f"{SIGN_UP_CREDITS_USD + ACTIVITY_CREDITS_USD:.0f} USD with the activity credits {most_text} "
            f"(they expire {CREDITS_EXPIRE_MONTHS} months after sign-up)."
        )
    closes = f"{FREE_PLAN_MONTHS} months" if sign_up >= FREE_PLAN_MONTHS else f"{plain_decimal(sign_up, 2)} months"
    return (
        f"At that rate {life} On the free plan the account closes when the credits run out or after "
        f"{FREE_PLAN_MONTHS} months, unless it is upgraded to the paid plan (here after {closes} on the "
        "sign-up credits), and some services are not available on it; on the paid plan this is the bill "
        "once the credits are spent."
    )


def _table_text(result: Estimate) -> str:
    """How the table is billed, and what one image costs there."""
    assumptions = result.assumptions
    if assumptions["on_demand"]:
        per_thousand = 1000 * on_demand_usd_per_image(WRITE_UNITS_PER_IMAGE, READ_UNITS_PER_IMAGE)
        return (
            f"Table: on demand (--billing-mode PROVISIONED models the always-free 25 WCU and 25 RCU), in no "
            f"free tier, legacy or credit-based: one image's life takes {plain_decimal(WRITE_UNITS_PER_IMAGE)} "
            f"write and {plain_decimal(READ_UNITS_PER_IMAGE)} read units (python -m bench capacity), "
            f"{usd_text(per_thousand)} USD per 1,000 images, plus "
            f"{plain_decimal(READ_UNITS_PER_RECORD_READ)} read unit for each view of an image "
            f"({assumptions['views_per_image']} assumed) and each time it is shown in a listing page "
            f"({assumptions['listings_per_image']} assumed)."
        )
    return (
        f"Table: provisioned, {assumptions['write_capacity_units']} WCU and {assumptions['read_capacity_units']} "
        f"RCU over the table and its {TABLE_PARTS - 1} indexes, billed every hour beyond the always-free 25 of "
        "each, whatever the images; a burst beyond them is throttled and strands images in the dead-letter "
        "queue (python -m bench capacity)."
    )


def _user_pool_text(result: Estimate) -> str | None:
    """What the user pool's active users cost (None: the estimate has no user pool)."""
    if "monthly_active_users" not in result.assumptions:
        return None
    plan = str(result.assumptions["user_pool_plan"])
    item = result.item(USER_POOL_PRICE_KEYS[cast(CognitoFeaturePlan, plan)])
    others = [
        f"{name.title()} {plain_decimal(PRICES[key].usd_per_unit)}"
        for name, key in USER_POOL_PRICE_KEYS.items()
        if name != plan
    ]
    return (
        f"User pool: {plan.title()} plan, {int(item.quantity):,} monthly active users (each user who signs in, "
        f"refreshes a token or is changed in the month), the first {item.free:,.0f} free every month on any "
        f"account (an always-free offer, per account or organization: other user pools there share it), "
        f"then {plain_decimal(item.price.usd_per_unit)} USD each ({', '.join(others)}; --user-pool-plan): "
        f"{usd_text(item.cost_usd)} USD a month, whatever the images"
        + ("; CostGuard's brake stops no sign-in (it denies the pipeline's roles)." if item.cost_usd > 0 else ".")
    )


def _rekognition_brake_images(monthly_budget_usd: float) -> float | None:
    """Images a month at which ``CostGuard``'s Rekognition usage budget brakes under the monthly budget
    (``UsageBudget.limit_for``; ``None``: never)."""
    if not (CostGuardProps.brake_enabled and REKOGNITION_IMAGES_BUDGET.brake):
        return None
    return REKOGNITION_IMAGES_BUDGET.limit_for(monthly_budget_usd) * CostGuardProps.brake_percent / 100


def report_lines(comparison: Comparison, account: Account, budget: Budget) -> list[str]:
    """What the table cannot say, one paragraph each: the first line billed and the bill after the free
    tier, the life of the credits, how the table is billed, the budget, a warning when an estimate exceeds
    it and when the Rekognition brake stops the volume asked, the sources."""
    legacy, always_free = comparison.legacy, comparison.always_free
    images = int(legacy.assumptions["images_per_month"])
    braked_at = _rekognition_brake_images(budget.usd)
    usage_brakes = braked_at is not None and images > braked_at
    lines = []
    if account in (Account.LEGACY, Account.BOTH):
        lines.append(
            f"Legacy free tier (accounts created before 2025-07-15): {usd_text(legacy.total_usd)} USD a month "
            f"in the first year, {usd_text(always_free.total_usd)} after it (always-free offers only). "
            + _growth_text(comparison.legacy_billed_from)
        )
    if account in (Account.CREDITS, Account.BOTH):
        lines.append(
            f"Credit-based plan (accounts created on or after 2025-07-15): {usd_text(always_free.total_usd)} "
            f"USD a month before credits. {_credits_text(always_free.total_usd)} "
            + _growth_text(comparison.always_free_billed_from)
        )
    lines.append(_table_text(legacy))
    user_pool = _user_pool_text(legacy)
    if user_pool is not None:
        lines.append(user_pool)
    watch = (
        "the rekognition-images usage budget watches the images"
        if braked_at is None
        else f"the rekognition-images usage budget brakes at {braked_at:,.0f} images a month"
    )
    lines.append(
        f"Budget: {usd_text(budget.usd)} USD a month (from {budget.source}). With CostGuard's defaults it "
        "counts this deployment's tagged resources, before credits, once their cost allocation tag is "
        f"active; Rekognition and X-Ray carry no tag ({watch})."
    )
    shown = {
        Account.LEGACY: [("the legacy first year", legacy), ("after the first year", always_free)],
        Account.CREDITS: [("the credit-based plan before credits", always_free)],
        Account.BOTH: [("the legacy first year", legacy), ("the credit-based plan before credits", always_free)],
    }[account]
    for name, result in shown:
        if result.total_usd > budget.usd:
            tagged = result.total_usd - sum(result.item(key).cost_usd for key in UNTAGGED)
            if tagged > budget.usd:
                brake = "its alerts come at 80% and the brake stops uploads and labels at 100%"
            else:
                brake = f"the budget sees only the {usd_text(tagged)} USD of tagged resources, so its brake waits; " + (
                    "the Rekognition brake acts first" if usage_brakes else "only the usage budgets alert"
                )
            lines.append(
                f"WARNING: the estimate for {name}, {usd_text(result.total_usd)} USD a month, exceeds the "
                f"budget of {usd_text(budget.usd)} USD: {brake}."
            )
    if usage_brakes:
        lines.append(
            f"WARNING: {images:,} images a month pass the {braked_at:,.0f} of the rekognition-images usage "
            f"budget (what the budget of {usd_text(budget.usd)} USD buys at {REKOGNITION_USD_PER_IMAGE} USD "
            f"an image): its brake stops uploads and labels after about {braked_at:,.0f} images each month "
            "(Budgets updates a few times a day), so this volume needs a higher monthly_budget_usd, or "
            "brake=False on that UsageBudget."
        )
    if budget.region != REGION:
        lines.append(f"The deployment's region is {budget.region}: its prices may differ from {REGION}'s.")
    sources = sorted(
        {price.source + (f" (checked {price.checked})" if price.checked else "") for price in PRICES.values()}
    )
    lines.append(f"Sources ({REGION} list prices as of {PRICES_AS_OF}; verify them there): {', '.join(sources)}.")
    lines.append("Not included: " + "; ".join(NOT_INCLUDED) + ".")
    return lines


def print_estimate(
    comparison: Comparison,
    *,
    account: Account = Account.BOTH,
    budget: Budget | None = None,
    console: Console | None = None,
) -> None:
    """Prints the price table, the estimate for ``account`` and the report lines (``imgmgr cost``), at most
    ``MAX_WIDTH`` columns wide. ``budget`` defaults to the default of the ``monthly_budget_usd`` setting."""
    console = console or Console()
    budget = budget or Budget(usd=Settings().monthly_budget_usd, source="the default of the monthly_budget_usd setting")
    width = min(console.width, MAX_WIDTH)
    legacy, always_free = comparison.legacy, comparison.always_free
    columns = {
        Account.LEGACY: {"year 1": legacy, "after": always_free},
        Account.CREDITS: {"before credits": always_free},
        Account.BOTH: {"legacy": legacy, "credits*": always_free},
    }[account]
    assumptions = legacy.assumptions
    user_pool = (
        f", user pool {str(assumptions['user_pool_plan']).title()} of {int(assumptions['monthly_active_users']):,} "
        "active users"
        if "monthly_active_users" in assumptions
        else ""
    )
    console.print(price_table(), width=width)
    console.print(
        f"Monthly estimate (USD): {int(assumptions['images_per_month']):,} images of "
        f"{plain_decimal(float(assumptions['avg_megapixels']), 4)} MP, {assumptions['retained_months']} month(s) "
        f"kept, point-in-time recovery {'on' if assumptions['point_in_time_recovery'] else 'off'}, table "
        f"{'on demand' if assumptions['on_demand'] else 'provisioned'}{user_pool}",
        width=width,
        markup=False,
        highlight=False,
    )
    console.print(estimate_table(columns), width=width)
    if account == Account.BOTH:
        console.print(
            "legacy: accounts created before 2025-07-15, in their first year. * credits: accounts created on "
            "or after 2025-07-15, before their credits; also what a legacy account pays after its first "
            "year. 12 mo: free in the legacy first year only.",
            width=width,
            markup=False,
            highlight=False,
        )
    for line in report_lines(comparison, account, budget):
        console.print(line, width=width, markup=False, highlight=False)


def cost_command(
    images: Annotated[int, typer.Option("--images", min=0, max=10**9, help="Images uploaded a month.")] = 1000,
    megapixels: Annotated[
        float, typer.Option("--megapixels", min=0.01, max=1000, help="Average megapixels of an image.")
    ] = 12.0,
    retained_months: Annotated[int, typer.Option(min=1, max=1200, help="Months of uploads kept in S3.")] = 1,
    account: Annotated[
        Account,
        typer.Option(
            case_sensitive=False,
            help="Kind of AWS account: legacy (created before 2025-07-15: 12-month offers), credits (created "
            "since: credit-based plan), or both.",
        ),
    ] = Account.BOTH,
    twelve_month_free_tier: Annotated[
        bool | None,
        typer.Option(help="Same as --account legacy (or, with --no-..., --account credits)."),
    ] = None,
    budget: Annotated[
        float | None,
        typer.Option(
            min=0.01,
            help="Monthly budget in USD to compare the estimate with. Default: the deployment's monthly_budget_usd "
            "setting (IMGMGR_MONTHLY_BUDGET_USD, cdktf.json), else 5.",
        ),
    ] = None,
    point_in_time_recovery: Annotated[
        bool, typer.Option(help="Count the table's point-in-time recovery (ImagePipelineProps' default: on).")
    ] = ImagePipelineProps.point_in_time_recovery,
    billing_mode: Annotated[
        TableBilling,
        typer.Option(
            case_sensitive=False,
            help="Billing mode of the table: PAY_PER_REQUEST (on demand, in no free tier) or PROVISIONED "
            "(ImagePipelineProps' read_capacity and write_capacity on the table and each index, free up to "
            f"25 RCU and 25 WCU). Default: ImagePipelineProps' ({ImagePipelineProps.billing_mode}).",
        ),
    ] = DEFAULT_TABLE_BILLING,
    users: Annotated[
        int | None,
        typer.Option(
            "--users",
            min=0,
            max=10**9,
            help="Monthly active users of the user pool (ImagePipelineProps.cognito): adds its line, 10,000 "
            "free a month. Default: no user pool.",
        ),
    ] = None,
    user_pool_plan: Annotated[
        UserPoolPlan | None,
        typer.Option(
            case_sensitive=False,
            help="Feature plan of the user pool (with --users): LITE or ESSENTIALS. Default: CognitoProps' "
            f"({CognitoProps.feature_plan}).",
        ),
    ] = None,
) -> None:
    """AWS prices and free tier (us-east-1, with sources and date) and the monthly bill for a volume of
    images (and, with --users, of the user pool's active users) on legacy and credit-based accounts,
    compared with the budget."""
    if user_pool_plan is not None and users is None:
        raise typer.BadParameter("needs --users (the user pool's monthly active users)", param_hint="--user-pool-plan")
    if twelve_month_free_tier is not None:
        implied = Account.LEGACY if twelve_month_free_tier else Account.CREDITS
        if account not in (Account.BOTH, implied):
            raise typer.BadParameter(f"contradicts --account {account.value}", param_hint="--twelve-month-free-tier")
        account = implied
    try:
        configured = configured_budget(Path.cwd(), os.environ)
    except SettingsError as error:
        typer.echo(f"error: setting {error}", err=True)
        raise typer.Exit(2) from None
    chosen = configured if budget is None else Budget(usd=budget, source="--budget", region=configured.region)
    comparison = compare(
        images,
        megapixels,
        retained_months=retained_months,
        point_in_time_recovery=point_in_time_recovery,
        billing_mode=cast(BillingMode, billing_mode.value),
        monthly_active_users=users,
        user_pool_plan=cast(CognitoFeaturePlan, (user_pool_plan or DEFAULT_USER_POOL_PLAN).value),
    )
    print_estimate(comparison, account=account, budget=chosen)
