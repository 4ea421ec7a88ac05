"""``imgmgr``: serve the system locally, and upload, find and delete images through its API (local or AWS).

Size: one Typer application, a function per command; the work of each lives in its own module.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table
from rich.text import Text

from imgmgr.client import ApiClient, ApiClientError, content_type_of, image_files, sha256_of
from imgmgr.cost.report import cost_command
from imgmgr.organize import Outcome, act, find_album, owner_ids, pick
from imgmgr.stats import render as render_figures
from imgmgr.stats import size
from lambdas.messages import plain

app = typer.Typer(help="Image management: the local system, and a client of its API.", no_args_is_help=True)
keys_app = typer.Typer(
    help="API keys: of the local server (stored hashed in the data directory), or of a deployment (--deployment).",
    no_args_is_help=True,
)
Deployment = Annotated[
    str | None,
    typer.Option(
        "--deployment",
        envvar="IMGMGR_DEPLOYMENT",
        help="Name prefix of a deployment: its API Gateway keys (AWS credentials and AWS_REGION of its account).",
        show_default=False,
    ),
]


def _deployment_keys(prefix: str):  # type: ignore[no-untyped-def]
    import boto3

    from imgmgr.deployment_keys import DeploymentKeys

    return DeploymentKeys(boto3.client("apigateway"), prefix)


app.add_typer(keys_app, name="keys")

console = Console()
errors = Console(stderr=True)
# Every value that comes from the API, a file name or an error is printed as ``Text`` (never as a str,
# which rich would read as markup and emoji codes): "holiday[/].jpg" must print, "[link=...]" must not link.

DEFAULT_ENDPOINT = "http://127.0.0.1:8000"
Endpoint = Annotated[str, typer.Option("--endpoint", envvar="IMGMGR_ENDPOINT", help="API base URL.")]
ApiKey = Annotated[
    str | None,
    typer.Option("--api-key", envvar="IMGMGR_API_KEY", help="API key (header x-api-key).", show_default=False),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", envvar="IMGMGR_DATA_DIR", help="Data directory. Default: .data in the current directory."
    ),
]
#: Upload states after which nothing more happens to an image.
FINAL_STATES = frozenset({"ready", "failed", "deleted"})


def _client(endpoint: str, api_key: str | None) -> ApiClient:
    if not api_key:
        errors.print("[red]an API key is required: --api-key or IMGMGR_API_KEY[/red]")
        raise typer.Exit(2)
    return ApiClient(endpoint, api_key)


def _fail(exc: ApiClientError) -> typer.Exit:
    # The sentence for people, then the status, code and detail for whoever reports or scripts it.
    errors.print(Text.assemble(("error:", "red"), " ", exc.plain, " (", str(exc), ")"), highlight=False)
    return typer.Exit(1)


# --- the local system ------------------------------------------------------------------------------------
@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    data_dir: DataDirOption = None,
    workers: Annotated[int, typer.Option(min=1, max=32, help="Pipeline worker threads.")] = 2,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            help="Another name clients reach this server by (repeatable); loopback names and the bound "
            "address are always allowed, other Host headers are refused."
        ),
    ] = None,
    header_timeout: Annotated[
        float, typer.Option(min=0.1, max=3600, help="Seconds a client has to send a request's headers (then 408).")
    ] = 10.0,
    body_timeout: Annotated[
        float,
        typer.Option(
            min=0.1, max=3600, help="Longest pause in a request body while the server waits for it (then 408)."
        ),
    ] = 30.0,
    idle_timeout: Annotated[
        float, typer.Option(min=0.1, max=3600, help="Seconds a connection may stay open without a request.")
    ] = 5.0,
    max_connections: Annotated[
        int,
        typer.Option(
            min=1, help="Connections open at once; one more closes the longest idle or half-sent one (503 if none)."
        ),
    ] = 256,
    max_upload_bytes: Annotated[
        int, typer.Option(min=1, help="Largest original a client may upload, in bytes (413 above).")
    ] = 100 * 1024 * 1024,
    originals: Annotated[
        str,
        typer.Option(
            help="What happens to an original once its compressed rendition is verified: expire (deleted"
            " --originals-after-days after upload; the compressed copy is then the best one), keep, or archive"
            " (kept here: no storage classes on one machine)."
        ),
    ] = "expire",
    originals_after_days: Annotated[
        int, typer.Option(min=1, max=36_500, help="Days after upload when --originals acts.")
    ] = 30,
) -> None:
    """Run the API, the web page and the pipeline workers on this machine until Ctrl-C or SIGTERM."""
    from imgmgr.config import DataDir  # the client commands do not need the server's imports
    from imgmgr.http_guard import ConnectionLimits
    from imgmgr.server import DataDirBusyError
    from imgmgr.server import serve as run
    from lambdas.api import ApiLimits
    from lambdas.domain.originals import OriginalsPolicy

    try:
        policy = OriginalsPolicy(policy=originals, after_days=originals_after_days)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--originals") from exc
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    connections = ConnectionLimits(
        header_timeout=header_timeout,
        body_timeout=body_timeout,
        idle_timeout=idle_timeout,
        max_connections=max_connections,
    )
    try:
        run(
            DataDir.resolve(data_dir),
            host=host,
            port=port,
            workers=workers,
            extra_hosts=tuple(allowed_host or ()),
            connections=connections,
            limits=ApiLimits(max_upload_bytes=max_upload_bytes),
            originals=policy,
        )
    except DataDirBusyError as exc:
        errors.print(Text(str(exc), style="red"))
        raise typer.Exit(1) from exc


@keys_app.command("create")
def keys_create(
    owner: Annotated[str, typer.Option(help="Identity that owns the images uploaded with this key.")] = "local",
    name: Annotated[str, typer.Option(help="A note to recognise the key by.")] = "",
    data_dir: DataDirOption = None,
    deployment: Deployment = None,
) -> None:
    """Create a key and print it (only now: locally it is stored hashed, on a deployment API Gateway keeps it).

    On a deployment the owner of a key's images is the key's id: --owner does not apply there."""
    from imgmgr.config import DataDir
    from imgmgr.deployment_keys import DeploymentKeysError
    from imgmgr.keys import KeyStore, KeyStoreError

    if deployment is not None:
        if owner != "local":
            errors.print(
                Text("--owner: on a deployment the owner is the key's own id; give --name instead", style="red")
            )
            raise typer.Exit(2)
        try:
            value, created = _deployment_keys(deployment).create(name or "user")
        except DeploymentKeysError as exc:
            errors.print(Text(str(exc), style="red"))
            raise typer.Exit(1) from exc
        errors.print(Text(f"created key {created.key_id} ({created.name}), the owner of its images; shown only once:"))
        print(value)
        return

    try:
        key, record = KeyStore(DataDir.resolve(data_dir).keys).create(owner, name=name)
    except KeyStoreError as exc:
        errors.print(Text(str(exc), style="red"))
        raise typer.Exit(2) from exc
    errors.print(Text(f"created key {record.key_id} for owner {record.owner!r}; it is shown only once:"))
    print(key)


@keys_app.command("list")
def keys_list(data_dir: DataDirOption = None, deployment: Deployment = None) -> None:
    """List keys (ids, owners, state; never the keys)."""
    from imgmgr.config import DataDir
    from imgmgr.deployment_keys import DeploymentKeysError
    from imgmgr.keys import KeyStore

    if deployment is not None:
        try:
            keys = _deployment_keys(deployment).list()
        except DeploymentKeysError as exc:
            errors.print(Text(str(exc), style="red"))
            raise typer.Exit(1) from exc
        listed = Table("key id (owner)", "name", "created", "enabled")
        for item in keys:
            listed.add_row(
                *(Text(cell) for cell in (item.key_id, item.name, item.created_at, "yes" if item.enabled else "no"))
            )
        console.print(listed)
        return

    table = Table("key id", "owner", "name", "created", "revoked")
    for key in KeyStore(DataDir.resolve(data_dir).keys).list():
        table.add_row(*(Text(cell) for cell in (key.key_id, key.owner, key.name, key.created_at, key.revoked_at or "")))
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key id (see keys list).")],
    data_dir: DataDirOption = None,
    deployment: Deployment = None,
) -> None:
    """Revoke a key: the server refuses it from the next request on, and the uploads it was handed."""
    from imgmgr.config import DataDir
    from imgmgr.deployment_keys import DeploymentKeysError
    from imgmgr.keys import KeyStore, KeyStoreError

    if deployment is not None:
        try:
            revoked = _deployment_keys(deployment).revoke(key_id)
        except DeploymentKeysError as exc:
            errors.print(Text(str(exc), style="red"))
            raise typer.Exit(1) from exc
        console.print(Text(f"disabled key {revoked.key_id} ({revoked.name}): API Gateway refuses it from now on"))
        return

    try:
        record = KeyStore(DataDir.resolve(data_dir).keys).revoke(key_id)
    except KeyStoreError as exc:
        errors.print(Text(str(exc), style="red"))
        raise typer.Exit(1) from exc
    console.print(Text(f"revoked key {record.key_id} (owner {record.owner!r}) at {record.revoked_at}"))


@app.command()
def redrive(
    queue_url: Annotated[
        str | None, typer.Option(help="SQS dead-letter queue of a deployment; without it, the local data directory's.")
    ] = None,
    data_dir: DataDirOption = None,
    max_messages: Annotated[int, typer.Option(min=1, help="At most this many messages (SQS).")] = 1000,
    dry_run: Annotated[bool, typer.Option(help="Only report what would be replayed (SQS).")] = False,
) -> None:
    """Replay the dead-letter queue: failed pipeline steps run again."""
    if queue_url is None:
        from imgmgr.config import DataDir
        from imgmgr.worker import Queue

        count = Queue(DataDir.resolve(data_dir).queue).redrive()
        console.print(f"requeued {count} step(s); a running imgmgr serve picks them up")
        return
    result = _redrive_aws(queue_url, max_messages=max_messages, dry_run=dry_run)
    console.print(f"replayed {result.replayed} of {result.seen} message(s)")
    for kept in result.kept:
        errors.print(Text(f"kept {kept['message_id']}: {kept['reason']}"))
    if result.kept and not dry_run:
        raise typer.Exit(1)


def _redrive_aws(queue_url: str, *, max_messages: int, dry_run: bool, session=None):  # type: ignore[no-untyped-def]
    """The redrive function's own loop, run with the caller's credentials on their account's functions."""
    import boto3  # boto3 only when asked

    from lambdas.handlers.redrive import redrive as run

    session = session or boto3.session.Session()
    region = session.region_name
    account = session.client("sts").get_caller_identity()["Account"]
    prefix = f"arn:{session.get_partition_for_region(region)}:lambda:{region}:{account}:function:"
    return run(
        session.client("sqs"),
        session.client("lambda"),
        queue_url,
        function_prefix=prefix,
        max_messages=max_messages,
        dry_run=dry_run,
    )


# --- the API client ----------------------------------------------------------------------------------------
@dataclass
class _Outcome:
    path: Path
    status: str  # uploaded | duplicate | retried | failed
    image_id: str | None = None
    detail: str = ""


@app.command()
def upload(
    paths: Annotated[list[Path], typer.Argument(help="Files and directories (searched recursively for images).")],
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    api_key: ApiKey = None,
    concurrency: Annotated[int, typer.Option(min=1, max=32, help="Files uploaded at once.")] = 4,
    wait: Annotated[bool, typer.Option(help="Wait until every image is ready (or failed).")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait with --wait.")] = 600.0,
) -> None:
    """Upload images; exact duplicates (same SHA-256) are skipped, except that one which failed before is
    retried (processed again from its stored original). Exits 1 if any file failed."""
    client = _client(endpoint, api_key)
    files = list(image_files(paths))
    if not files:
        errors.print("no image files found")
        raise typer.Exit(1)
    outcomes: list[_Outcome] = []
    seen: dict[str, Path] = {}
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=errors, transient=False) as progress:
        total = progress.add_task(f"{len(files)} file(s)", total=sum(f.stat().st_size for f in files if f.is_file()))

        def one(path: Path) -> _Outcome:
            try:
                content_type = content_type_of(path)
                if content_type is None:
                    return _Outcome(path, "failed", detail="not an image file type")
                size = path.stat().st_size
                digest = sha256_of(path)
                if digest in seen:
                    progress.advance(total, size)
                    return _Outcome(path, "duplicate", detail=f"same bytes as {seen[digest]}")
                seen[digest] = path
                answer = client.create_upload(filename=path.name, content_type=content_type, size=size, sha256=digest)
                image_id = answer["image"]["id"]
                if answer["duplicate"]:
                    progress.advance(total, size)
                    return _duplicate(client, path, answer)
                client.send(answer["upload"], path, lambda sent: progress.advance(total, sent))
                return _Outcome(path, "uploaded", image_id)
            except ApiClientError as exc:
                return _Outcome(path, "failed", detail=f"{exc.plain} ({exc.code})")
            except OSError as exc:
                return _Outcome(path, "failed", detail=str(exc))

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            futures = [pool.submit(one, path) for path in files]
            for future in as_completed(futures):
                outcomes.append(future.result())
    final: dict[str, str] = {}
    if wait:
        final = _wait_final(client, [o.image_id for o in outcomes if o.image_id], timeout)
    _summary(outcomes, final)
    if any(o.status == "failed" for o in outcomes) or any(state != "ready" for state in final.values()):
        raise typer.Exit(1)


def _duplicate(client: ApiClient, path: Path, answer: dict[str, Any]) -> _Outcome:
    """The outcome of a file the API already has: skipped, or retried when that image failed."""
    image = answer["image"]
    failure = image.get("failure") or {}
    if answer.get("retry"):
        client.retry_image(image["id"])
        return _Outcome(path, "retried", image["id"], f"failed before ({plain(failure.get('code', ''))}): retrying")
    if image["status"] != "failed":
        return _Outcome(path, "duplicate", image["id"], "already uploaded")
    if failure.get("retryable"):
        return _Outcome(path, "duplicate", image["id"], "failed before; already being retried")
    reason = plain(failure.get("code", ""), failure.get("message", ""))
    return _Outcome(
        path,
        "failed",
        image["id"],
        f"failed before ({reason}) and cannot be retried here: imgmgr rm {image['id']}, then upload it again"
        " (on AWS, imgmgr redrive --queue-url <dead-letter queue> replays parked steps)",
    )


def _wait_final(client: ApiClient, image_ids: list[str], timeout: float) -> dict[str, str]:
    states: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    pending = list(dict.fromkeys(image_ids))
    with errors.status("waiting for the pipeline...") as status:
        while pending and time.monotonic() < deadline:
            for image_id in list(pending):
                try:
                    image = client.get_image(image_id)
                    states[image_id] = image["status"]
                    if image["status"] == "failed" and image.get("failure"):
                        failure = image["failure"]
                        states[image_id] = f"failed: {plain(failure['code'], failure['message'])} ({failure['code']})"
                    # A retryable failure is retried by the pipeline: not final yet.
                    final = image["status"] in FINAL_STATES and not (image.get("failure") or {}).get("retryable")
                except ApiClientError as exc:
                    states[image_id] = f"{exc.plain} ({exc.code})"
                    final = exc.status in (401, 403, 404)
                if final:
                    pending.remove(image_id)
            status.update(f"waiting for the pipeline... {len(image_ids) - len(pending)}/{len(image_ids)} done")
            if pending:
                time.sleep(0.5)
    for image_id in pending:
        states[image_id] = f"{states.get(image_id, 'unknown')} (timed out)"
    return states


def _summary(outcomes: list[_Outcome], final: dict[str, str]) -> None:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("file", overflow="fold")
    table.add_column("result")
    _id_column(table, "image id", [o.image_id for o in outcomes if o.image_id])
    table.add_column("state" if final else "detail", overflow="fold")
    for outcome in sorted(outcomes, key=lambda o: str(o.path)):
        style = {"uploaded": "green", "duplicate": "yellow", "retried": "cyan", "failed": "red"}[outcome.status]
        last = final.get(outcome.image_id or "", outcome.detail) if final else outcome.detail
        table.add_row(
            Text(str(outcome.path)), Text(outcome.status, style=style), Text(outcome.image_id or ""), Text(last)
        )
    console.print(table)
    statuses = ("uploaded", "duplicate", "retried", "failed")
    counts = {status: sum(1 for o in outcomes if o.status == status) for status in statuses}
    retried = f", {counts['retried']} retried" if counts["retried"] else ""
    console.print(
        f"{counts['uploaded']} uploaded, {counts['duplicate']} duplicate(s) skipped, {counts['failed']} failed{retried}"
    )


def _id_column(table: Table, header: str, ids: list[str]) -> None:
    """Add an image-id column that is never wrapped nor cut: ids are copied into other commands."""
    table.add_column(header, no_wrap=True, overflow="ignore", min_width=max((len(i) for i in ids), default=0))


def _print_images(items: list[dict[str, Any]]) -> None:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    _id_column(table, "id", [item["id"] for item in items])
    for header in ("file", "status", "size", "categories"):
        table.add_column(header, overflow="fold")
    table.add_column("uploaded", overflow="fold")
    for item in items:
        table.add_row(
            Text(item["id"]),
            Text(item["filename"]),
            Text(item["status"]),
            size(item["size"]) if item.get("size") is not None else "",
            Text(", ".join(item["categories"])),
            Text(item["created_at"][:16].replace("T", " ")),
        )
    console.print(table)


def _collect(client: ApiClient, limit: int, **filters: Any) -> list[dict[str, Any]]:
    """Up to ``limit`` images of the listing with ``filters``, following the cursor."""
    items: list[dict[str, Any]] = []
    cursor = None
    while len(items) < limit:
        page = client.list_images(**filters, limit=min(100, limit - len(items)), cursor=cursor)
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    return items


@app.command("ls")
def list_images(
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    api_key: ApiKey = None,
    category: Annotated[str | None, typer.Option(help="Only images in this category.")] = None,
    label: Annotated[str | None, typer.Option(help="Only images with this label.")] = None,
    status: Annotated[str | None, typer.Option(help="Only images in this state (ready, failed...).")] = None,
    since: Annotated[str | None, typer.Option("--from", help="Uploaded at or after (ISO 8601 with zone).")] = None,
    until: Annotated[str | None, typer.Option("--to", help="Uploaded at or before (ISO 8601 with zone).")] = None,
    favorites: Annotated[bool, typer.Option("--favorites", help="Only your favorites.")] = False,
    album: Annotated[str | None, typer.Option(help="Only the images of this album (its id or unique name).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many images.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List your images, newest first (every state but deleted; full ids). --favorites, --album, --category
    and --label exclude each other."""
    client = _client(endpoint, api_key)
    filters = {"category": category, "label": label, "status": status, "from": since, "to": until}
    if favorites:
        filters["favorite"] = "true"
    try:
        if album is not None:
            filters["album"] = find_album(client, album)["album_id"]
        items = _collect(client, limit, **filters)
    except ApiClientError as exc:
        raise _fail(exc) from exc
    if as_json:
        print(json.dumps(items, indent=2))
    elif not items:
        console.print("No images match these filters." if any(filters.values()) else "No images yet.")
    else:
        _print_images(items)


@app.command()
def search(
    text: Annotated[
        str,
        typer.Argument(
            help=(
                "Words to find in labels and their parents (tabby, animal), categories (animals) or file names; "
                "a synonym searches its label (kitty finds Cat)."
            )
        ),
    ],
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    api_key: ApiKey = None,
    category: Annotated[str | None, typer.Option(help="Only images in this category.")] = None,
    since: Annotated[str | None, typer.Option("--from", help="Uploaded at or after (ISO 8601 with zone).")] = None,
    until: Annotated[str | None, typer.Option("--to", help="Uploaded at or before (ISO 8601 with zone).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many images.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Find your ready images matching every word of TEXT, newest first."""
    client = _client(endpoint, api_key)
    try:
        items = _collect(client, limit, q=text, category=category, **{"from": since, "to": until})
    except ApiClientError as exc:
        raise _fail(exc) from exc
    if as_json:
        print(json.dumps(items, indent=2))
    elif not items:
        console.print(Text(f"No images match \u201c{text}\u201d{_period(since, until)}."))
    else:
        _print_images(items)


def _period(since: str | None, until: str | None) -> str:
    if since and until:
        return f" uploaded from {since} to {until}"
    if since:
        return f" uploaded from {since}"
    return f" uploaded up to {until}" if until else ""


def _resolve(client: ApiClient, given: str) -> str:
    """The image id ``given`` names: itself, or the one id of the owner's images that starts with it.

    A full id costs one request; a prefix lists the owner's images (every state but deleted). Raises
    ``ApiClientError`` 404 when nothing matches and 409 ``Image.AmbiguousPrefix`` naming the candidates."""
    try:
        return str(client.get_image(given)["id"])
    except ApiClientError as exc:
        if exc.status != 404 or not given:
            raise
    return pick(given, [image_id for image_id in owner_ids(client) if image_id.startswith(given)])


@app.command()
def retry(
    image_ids: Annotated[list[str], typer.Argument(help="Ids of failed images, or unique starts of them.")],
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    api_key: ApiKey = None,
) -> None:
    """Process failed images again from their stored originals, from the step that failed. Exits 1 if one
    could not be retried."""
    client = _client(endpoint, api_key)
    refused = False
    for given in image_ids:
        image_id = given
        try:
            image_id = _resolve(client, given)
            client.retry_image(image_id)
        except ApiClientError as exc:
            errors.print(Text.assemble((f"{given}:", "red"), " ", exc.plain, " (", exc.code, ")"), highlight=False)
            refused = True
            continue
        console.print(Text(f"{image_id}: retrying (imgmgr show {image_id} tells how it ends)"))
    if refused:
        raise typer.Exit(1)


@app.command()
def show(
    image_id: str,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    api_key: ApiKey = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one image (by id or a unique start of it): state, renditions (with savings), labels, categories."""
    client = _client(endpoint, api_key)
    try:
        image = client.get_image(_resolve(client, image_id))
    except ApiClientError as exc:
        raise _fail(exc) from exc
    if as_json:
        print(json.dumps(image, indent=2))
        return
    console.print(Text.assemble((image["filename"], "bold"), f"  {image['id']}"))
    shown_size = size(image["size"]) if image.get("size") is not None else "?"
    dims = f"{image['width']}x{image['height']}" if image.get("width") else ""
    console.print(
        Text(f"status {image['status']}  {image.get('format') or image.get('content_type')}  {dims}  {shown_size}")
    )
    if image.get("failure"):
        failure = image["failure"]
        console.print(Text(f"failed: {plain(failure['code'], failure['message'])} ({failure['code']})", style="red"))
        if image["status"] == "failed" and not failure.get("retryable"):
            console.print(Text(f"retry it with: imgmgr retry {image['id']}"))
    if image.get("favorite"):
        console.print(Text("favorite", style="yellow"))
    if image["categories"]:
        console.print(Text("categories: " + ", ".join(image["categories"])))
    if image["labels"]:
        labels = ", ".join(f"{lb['name']} ({lb['confidence']:.0f}%)" for lb in image["labels"])
        console.print(Text("labels: " + labels))
    if image.get("user_tags"):
        console.print(Text("your tags: " + ", ".join(image["user_tags"])))
    if image.get("removed_labels"):
        console.print(Text("removed labels: " + ", ".join(image["removed_labels"])))
    if image.get("albums"):
        try:
            names = {album["album_id"]: album["name"] for album in client.albums()}
        except ApiClientError:
            names = {}
        shown = (f"{names[a]} ({a})" if a in names else a for a in image["albums"])
        console.print(Text("albums: " + ", ".join(shown)))
    if image.get("renditions"):
        table = Table("rendition", "format", "size", "bytes", "saving")
        for r in image["renditions"]:
            saving = "" if r["saving"] is None else f"{r['saving']:.0%}"
            cells = (r["name"], r["format"], f"{r['width']}x{r['height']}", size(r["bytes"]), saving)
            table.add_row(*(Text(cell) for cell in cells))
        console.print(table)


@app.command("rm")
def remove(
    image_ids: Annotated[list[str], typer.Argument(help="Image ids, or unique starts of them.")],
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    api_key: ApiKey = None,
) -> None:
    """Delete images: original, renditions, record and counters (100 per request). Exits 1 if one could not
    be deleted."""
    _act(_client(endpoint, api_key), image_ids, "delete", lambda outcome: f"deleted {outcome.image_id}")


def _act(client: ApiClient, given: list[str], action: str, done: Callable[[Outcome], str], **fields: Any) -> None:
    """``action`` on the images ``given`` names; prints ``done`` of each that took it and the reason of each
    that did not (then exits 1)."""
    try:
        outcomes = act(client, given, action, **fields)
    except ApiClientError as exc:
        raise _fail(exc) from exc
    _report(outcomes, done)


def _report(outcomes: list[Outcome], done: Callable[[Outcome], str]) -> None:
    for outcome in outcomes:
        if outcome.ok:
            console.print(Text(done(outcome)))
        else:
            reason = plain(outcome.code or "", outcome.message or "")
            errors.print(
                Text.assemble((f"{outcome.given}:", "red"), " ", reason, f" ({outcome.code})"), highlight=False
            )
    if not all(outcome.ok for outcome in outcomes):
        raise typer.Exit(1)


@app.command()
def fav(
    image_ids: Annotated[list[str], typer.Argument(help="Image ids, or unique starts of them.")],
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    api_key: ApiKey = None,
) -> None:
    """Mark images as favorites (imgmgr ls --favorites lists them). Exits 1 if one could not be marked."""
    _act(_client(endpoint, api_key), image_ids, "favorite", lambda outcome: f"{outcome.image_id}: favorite")


@app.command()
def unfav(
    image_ids: Annotated[list[str], typer.Argument(help="Image ids, or unique starts of them.")],
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    api_key: ApiKey = None,
) -> None:
    """Unmark favorites. Exits 1 if one could not be unmarked."""
    _act(_client(endpoint, api_key), image_ids, "unfavorite", lambda outcome: f"{outcome.image_id}: not a favorite")


def _tags_of(outcome: Outcome) -> str:
    tags = (outcome.image or {}).get("tags") or []
    return f"{outcome.image_id}: tags: {', '.join(tags) if tags else '(none)'}"


@app.command()
def tag(
    image_ids: Annotated[list[str], typer.Argument(help="Image ids, or unique starts of them.")],
    add: Annotated[
        list[str] | None,
        typer.Option("--add", help="A tag to add (repeatable): your own, or a removed label restored."),
    ] = None,
    remove: Annotated[
        list[str] | None,
        typer.Option("--remove", help="A tag to remove (repeatable): your own, or a wrong label of the model."),
    ] = None,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    api_key: ApiKey = None,
) -> None:
    """Add and remove tags (removals after additions). Your tags are searched like labels; a removed label
    is hidden and no longer searched, and the image keeps both however often it is labelled again."""
    if not add and not remove:
        errors.print(Text("give --add TAG or --remove TAG (repeatable)", style="red"))
        raise typer.Exit(2)
    client = _client(endpoint, api_key)
    try:
        outcomes = act(client, image_ids, "add_tags", tags=tuple(add)) if add else None
        if remove:
            targets = list(image_ids) if outcomes is None else [o.image_id for o in outcomes if o.ok and o.image_id]
            removed = {o.given: o for o in act(client, targets, "remove_tags", tags=tuple(remove))} if targets else {}
            if outcomes is None:
                outcomes = [removed[name] for name in dict.fromkeys(image_ids)]
            else:
                # Each image that took the additions takes the removals by its full id: shown as it was given.
                outcomes = [replace(removed[o.image_id], given=o.given) if o.ok and o.image_id else o for o in outcomes]
    except ApiClientError as exc:
        raise _fail(exc) from exc
    _report(outcomes or [], _tags_of)


# --- albums ------------------------------------------------------------------------------------------------
album_app = typer.Typer(
    help="Albums: named sets of your images (an image may be in several; deleting an album keeps its images). "
    "An album is named by its id or its name, when no other album has it.",
    no_args_is_help=True,
)
app.add_typer(album_app, name="album")
AlbumArgument = Annotated[str, typer.Argument(metavar="ALBUM", help="The album's id, or its unique name.")]
ImageIds = Annotated[list[str], typer.Argument(help="Image ids, or unique starts of them.")]


def _album_of(client: ApiClient, given: str) -> dict[str, Any]:
    try:
        return find_album(client, given)
    except ApiClientError as exc:
        raise _fail(exc) from exc


@album_app.command("ls")
def album_list(
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    api_key: ApiKey = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List your albums by name, with their image counts and covers."""
    client = _client(endpoint, api_key)
    try:
        albums = client.albums()
    except ApiClientError as exc:
        raise _fail(exc) from exc
    if as_json:
        print(json.dumps(albums, indent=2))
        return
    if not albums:
        console.print("No albums yet (imgmgr album create NAME makes one).")
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    _id_column(table, "id", [album["album_id"] for album in albums])
    table.add_column("name", overflow="fold")
    table.add_column("images", justify="right")
    _id_column(table, "cover", [album["cover_image_id"] or "" for album in albums])
    for album in albums:
        table.add_row(
            Text(album["album_id"]), Text(album["name"]), str(album["count"]), Text(album["cover_image_id"] or "")
        )
    console.print(table)


@album_app.command("create")
def album_create(
    name: Annotated[str, typer.Argument(help="The album's name (another album may have it too).")],
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    api_key: ApiKey = None,
) -> None:
    """Create an empty album and print its id."""
    client = _client(endpoint, api_key)
    try:
        album = client.create_album(name)
    except ApiClientError as exc:
        raise _fail(exc) from exc
    console.print(Text(f"created album {album['name']!r}: {album['album_id']}"))


@album_app.command("rename")
def album_rename(
    album: AlbumArgument,
    name: Annotated[str, typer.Argument(help="Its new name.")],
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    api_key: ApiKey = None,
) -> None:
    """Rename an album."""
    client = _client(endpoint, api_key)
    found = _album_of(client, album)
    try:
        renamed = client.edit_album(found["album_id"], name=name)
    except ApiClientError as exc:
        raise _fail(exc) from exc
    console.print(Text(f"renamed {renamed['album_id']} from {found['name']!r} to {renamed['name']!r}"))


@album_app.command("cover")
def album_cover(
    album: AlbumArgument,
    image_id: Annotated[
        str | None, typer.Argument(help="An image of the album (id or unique start). Default: its newest image.")
    ] = None,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    api_key: ApiKey = None,
) -> None:
    """Choose the image shown for an album (without IMAGE_ID: its newest image again)."""
    client = _client(endpoint, api_key)
    found = _album_of(client, album)
    try:
        cover = None if image_id is None else _resolve(client, image_id)
        changed = client.edit_album(found["album_id"], cover_image_id=cover)
    except ApiClientError as exc:
        raise _fail(exc) from exc
    shown = changed["cover_image_id"] or "none (it is empty)"
    console.print(Text(f"{changed['name']!r} ({changed['album_id']}) shows {shown}"))


@album_app.command("rm")
def album_remove(album: AlbumArgument, endpoint: Endpoint = DEFAULT_ENDPOINT, api_key: ApiKey = None) -> None:
    """Delete an album; its images stay (each is taken out of it first)."""
    client = _client(endpoint, api_key)
    found = _album_of(client, album)
    try:
        client.delete_album(found["album_id"])
    except ApiClientError as exc:
        raise _fail(exc) from exc
    console.print(Text(f"deleted album {found['name']!r} ({found['album_id']}); its {found['count']} image(s) stay"))


@album_app.command("add")
def album_add(
    album: AlbumArgument, image_ids: ImageIds, endpoint: Endpoint = DEFAULT_ENDPOINT, api_key: ApiKey = None
) -> None:
    """Put images into an album. Exits 1 if one could not be put in."""
    client = _client(endpoint, api_key)
    found = _album_of(client, album)
    _act(
        client,
        image_ids,
        "add_to_album",
        lambda outcome: f"{outcome.image_id}: in {found['name']!r}",
        album_id=found["album_id"],
    )


@album_app.command("remove")
def album_take_out(
    album: AlbumArgument, image_ids: ImageIds, endpoint: Endpoint = DEFAULT_ENDPOINT, api_key: ApiKey = None
) -> None:
    """Take images out of an album (they stay among your images). Exits 1 if one could not be taken out."""
    client = _client(endpoint, api_key)
    found = _album_of(client, album)
    _act(
        client,
        image_ids,
        "remove_from_album",
        lambda outcome: f"{outcome.image_id}: not in {found['name']!r}",
        album_id=found["album_id"],
    )


@album_app.command("show")
def album_show(
    album: AlbumArgument,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    api_key: ApiKey = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many images.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: the album and its images.")] = False,
) -> None:
    """Show an album and its images, newest first."""
    client = _client(endpoint, api_key)
    found = _album_of(client, album)
    try:
        items = _collect(client, limit, album=found["album_id"])
    except ApiClientError as exc:
        raise _fail(exc) from exc
    if as_json:
        print(json.dumps({"album": found, "images": items}, indent=2))
        return
    console.print(Text.assemble((found["name"], "bold"), f"  {found['album_id']}"))
    cover = f", cover {found['cover_image_id']}" if found["cover_image_id"] else ""
    console.print(Text(f"{found['count']} image(s){cover}"))
    if items:
        _print_images(items)


@app.command()
def duplicates(endpoint: Endpoint = DEFAULT_ENDPOINT, api_key: ApiKey = None) -> None:
    """Your groups of near-duplicates (resized, re-encoded or slightly cropped copies), newest copy first;
    delete the extra copies with ``imgmgr rm ID...``."""
    client = _client(endpoint, api_key)
    try:
        groups = client.duplicates()
    except ApiClientError as exc:
        raise _fail(exc) from exc
    if not groups:
        console.print(Text("No near-duplicates found."))
        return
    for number, group in enumerate(groups, start=1):
        images = group["images"]
        console.print(Text(f"group {number}: {len(images)} copies", style="bold"))
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        _id_column(table, "id", [image["id"] for image in images])
        for header in ("file", "pixels", "size", "uploaded"):
            table.add_column(header, overflow="fold")
        for image in images:
            pixels = f"{image['width']}x{image['height']}" if image.get("width") else ""
            table.add_row(
                Text(image["id"]),
                Text(image["filename"]),
                Text(pixels),
                size(image["size"]) if image.get("size") is not None else "",
                Text(image["created_at"][:16].replace("T", " ")),
            )
        console.print(table)


@app.command()
def categories(endpoint: Endpoint = DEFAULT_ENDPOINT, api_key: ApiKey = None) -> None:
    """Your ready images per category."""
    client = _client(endpoint, api_key)
    try:
        rows = client.categories()
    except ApiClientError as exc:
        raise _fail(exc) from exc
    table = Table("category", "images")
    for row in rows:
        table.add_row(Text(row["name"]), str(row["count"]))
    console.print(table)


@app.command()
def usage(endpoint: Endpoint = DEFAULT_ENDPOINT, api_key: ApiKey = None) -> None:
    """Your totals: images, bytes stored, bytes saved by compression."""
    client = _client(endpoint, api_key)
    try:
        totals = client.usage()
    except ApiClientError as exc:
        raise _fail(exc) from exc
    console.print(
        f"{totals['images']} image(s), {size(totals['bytes_stored'])} stored, {size(totals['bytes_saved'])} saved"
    )


app.command("cost")(cost_command)


@app.command()
def stats(
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    api_key: ApiKey = None,
    first: Annotated[
        str | None, typer.Option("--from", help="First UTC day, YYYY-MM-DD. Default: 29 days before --to.")
    ] = None,
    last: Annotated[str | None, typer.Option("--to", help="Last UTC day, YYYY-MM-DD. Default: today.")] = None,
    figure: Annotated[
        list[str] | None, typer.Option("--figure", "-f", help="Only this figure (repeatable). Default: all.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON instead of tables.")] = False,
) -> None:
    """Your usage figures for a period: uploads, images by state, popular categories and labels, activity,
    bytes saved, failures by code, views and searches (the analytics lake's saved queries, via the API)."""
    client = _client(endpoint, api_key)
    try:
        document = client.analytics(first=first, last=last, figures=tuple(figure or ()))
    except ApiClientError as exc:
        raise _fail(exc) from exc
    if as_json:
        console.print_json(json.dumps(document))
    else:
        render_figures(document, console)


def main() -> None:  # pragma: no cover - console entry for python -m imgmgr
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()
