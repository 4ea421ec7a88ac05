"""Latency of ``GET /v1/images?category=...`` (and ``?label=...``) with 1,000 vs 10,000 images in the local store.

Run ``python -m bench.query_latency`` (``make bench`` runs it through ``python -m bench``). Options:
``--requests N`` (measured requests per query and store, default 300), ``--warm-up N`` (default 30),
``--small N`` / ``--large N`` (store sizes, default 1,000 and 10,000).

Two data directories are filled quickly by writing ``ready`` records straight through the
``SqliteMetadataStore`` adapter (what the pipeline's last step leaves behind: renditions, labels from the
offline labeler's vocabulary, their categories and tags), spread over 100 owners and a year of upload
times. The owner that queries (``local``, the first key's) holds half of them; labels follow one Zipf law
in both stores, so categories and labels range from common to rare and the large store holds about ten
times the small one's matches. Each store is served by its own ``imgmgr serve`` process and queried over
HTTP with httpx: three categories and one label that fill a whole page (48 items, as the web gallery
asks) in both stores, so both answer the same amount of JSON. Requests to the two servers alternate
(which goes first swaps each round), so that noise hits both alike.

The query is an index range (``terms_by_owner``: owner, kind, term, created_at), so its latency must not
grow with the store: the 10k/1k ratio should stay near 1.0.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench.local_server import LocalServer

QUERYING_OWNER = "local"  # the owner of the key a fresh ``imgmgr serve`` prints
OWNERS = 100
QUERYING_SHARE = 0.50
PAGE = 48  # what the web gallery asks for
RATIO_TARGET = 1.2
SEED = 5


@dataclass
class Store:
    size: int
    data_dir: Path
    owned_terms: Counter[tuple[str, str]] = field(default_factory=Counter)
    fill_seconds: float = 0.0


def fill(store: Store, rng: random.Random) -> None:
    """Write ``store.size`` ready records through ``SqliteMetadataStore``; count the querying owner's terms."""
    from imgmgr.adapters.offline.vocabulary import Vocabulary
    from imgmgr.adapters.sqlite import SqliteMetadataStore
    from lambdas.domain.labels import Label, Labeling
    from lambdas.domain.queries import index_terms
    from lambdas.domain.records import ImageRecord, StoredRendition, rendition_key
    from lambdas.domain.states import ImageState

    vocabulary = Vocabulary.load()
    classes = list(vocabulary.class_labels)
    random.Random(SEED).shuffle(classes)  # the same popularity order in every store
    weights = [1 / rank for rank in range(1, len(classes) + 1)]
    others = [f"user-{number:03d}" for number in range(1, OWNERS)]
    now = datetime.now(UTC)
    metadata = SqliteMetadataStore(store.data_dir / "metadata.sqlite3")
    started = time.perf_counter()
    for _ in range(store.size):
        image_id = f"{rng.getrandbits(128):032x}"
        owner = QUERYING_OWNER if rng.random() < QUERYING_SHARE else rng.choice(others)
        created = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
        names = dict.fromkeys(rng.choices(classes, weights, k=rng.randint(1, 3)))
        confidences = sorted((rng.uniform(55, 99) for _ in names), reverse=True)
        labeling = Labeling(
            labels=tuple(
                Label(
                    name=name,
                    confidence=round(confidence, 2),
                    parents=vocabulary.labels[name].parents,
                    categories=vocabulary.labels[name].categories,
                )
                for name, confidence in zip(names, confidences, strict=True)
            ),
            model="efficientnet-lite0",
        )
        width, height = rng.choice(((4000, 3000), (3000, 4000), (6000, 4000), (1920, 1080)))
        size = rng.randint(800_000, 6_000_000)
        renditions = tuple(
            StoredRendition(
                name=name,
                key=rendition_key(image_id, name, "jpeg"),
                format="jpeg",
                mime="image/jpeg",
                width=edge,
                height=edge * height // width,
                size=size // divisor,
                quality=82,
            )
            for name, edge, divisor in (("compressed", 2048, 5), ("thumb-256", 256, 300), ("analysis", 1024, 40))
        )
        record = ImageRecord(
            image_id=image_id,
            owner=owner,
            filename=f"IMG_{rng.randint(1000, 9999)}.jpg",
            created_at=created,
            updated_at=created + timedelta(seconds=rng.uniform(1, 5)),
            state=ImageState.READY,
            declared_mime="image/jpeg",
            declared_bytes=size,
            declared_sha256=f"{rng.getrandbits(256):064x}",
            sniffed_format="jpeg",
            sniffed_mime="image/jpeg",
            size=size,
            sha256=f"{rng.getrandbits(256):064x}",
            width=width,
            height=height,
            renditions=renditions,
            labels=labeling.labels,
            categories=labeling.categories,
            tags=labeling.tags,
            labeler_model=labeling.model,
        )
        metadata.create(record)
        if owner == QUERYING_OWNER:
            store.owned_terms.update(index_terms(record))
    store.fill_seconds = time.perf_counter() - started
    metadata.close()


def pick_queries(small: Store) -> list[tuple[str, str]]:
    """Three categories (most common, middle, least common) and a middle label that fill a page in ``small``."""
    full = [(term, count) for term, count in small.owned_terms.most_common() if count > PAGE + 10]
    categories = [term for term, _ in full if term[0] == "category"]
    labels = [term for term, _ in full if term[0] == "label"]
    if len(categories) < 3 or not labels:
        raise RuntimeError(f"the {small.size}-image store has too few terms filling a page of {PAGE}")
    return [categories[0], categories[len(categories) // 2], categories[-1], labels[len(labels) // 2]]


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def measure(clients: list[httpx.Client], query: tuple[str, str], warm_up: int, requests: int) -> list[list[float]]:
    """Latencies (ms) of ``requests`` GETs per client after ``warm_up``, alternating which client goes first."""
    params: dict[str, str | int] = {query[0]: query[1], "limit": PAGE}

    def get(client: httpx.Client) -> float:
        started = time.perf_counter()
        response = client.get("/v1/images", params=params)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{client.base_url} {params}: {response.status_code} {response.text[:300]}")
        count = len(response.json()["items"])
        if count != PAGE:
            raise RuntimeError(f"{client.base_url} {params}: {count} items, expected a full page of {PAGE}")
        return elapsed

    for _ in range(warm_up):
        for client in clients:
            get(client)
    latencies: list[list[float]] = [[] for _ in clients]
    for round_number in range(requests):
        order = list(enumerate(clients))
        if round_number % 2:
            order.reverse()
        for index, client in order:
            latencies[index].append(get(client))
    return latencies


def measure_store(data_dir: Path, query: tuple[str, str], requests: int) -> list[float]:
    """Latencies (ms) of the same query through ``SqliteMetadataStore.query`` in this process (no HTTP)."""
    from imgmgr.adapters.sqlite import SqliteMetadataStore
    from lambdas.domain.queries import ImageQuery

    metadata = SqliteMetadataStore(data_dir / "metadata.sqlite3")
    kind, term = query
    wanted = ImageQuery(
        owner=QUERYING_OWNER,
        category=term if kind == "category" else None,
        label=term if kind == "label" else None,
        limit=PAGE,
    )
    latencies = []
    for _ in range(requests):
        started = time.perf_counter()
        metadata.query(wanted)
        latencies.append((time.perf_counter() - started) * 1000)
    metadata.close()
    return latencies


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.query_latency", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warm-up", type=int, default=30)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=10_000)
    args = parser.parse_args(argv)
    if args.requests < 20 or not 0 < args.small < args.large:
        parser.error("--requests must be at least 20 and 0 < --small < --large")

    with tempfile.TemporaryDirectory(prefix="imgmgr-bench-query-") as tmp:
        stores = []
        for size in (args.small, args.large):
            data_dir = Path(tmp) / f"data-{size}"
            data_dir.mkdir()
            store = Store(size, data_dir)
            fill(store, random.Random(f"{SEED}-{size}"))
            database_mb = (data_dir / "metadata.sqlite3").stat().st_size / 1e6
            print(
                f"store of {size:>6} ready images: written in {store.fill_seconds:5.1f} s"
                f" ({size / store.fill_seconds:,.0f} records/s), {database_mb:.1f} MB;"
                f" owner {QUERYING_OWNER!r} holds {sum(1 for t in store.owned_terms if t[0] == 'category')} categories,"
                f" {sum(1 for t in store.owned_terms if t[0] == 'label')} labels",
                flush=True,
            )
            stores.append(store)
        queries = pick_queries(stores[0])

        servers = [LocalServer(store.data_dir, workers=1) for store in stores]
        results: dict[tuple[str, str], list[list[float]]] = {}
        try:
            for server in servers:
                server.start()
            clients = [
                httpx.Client(base_url=server.url, headers={"x-api-key": server.key or ""}, timeout=10.0)
                for server in servers
            ]
            try:
                for query in queries:
                    results[query] = measure(clients, query, args.warm_up, args.requests)
            finally:
                for client in clients:
                    client.close()
        finally:
            for server in servers:
                server.stop()
        in_store = {
            query: [measure_store(store.data_dir, query, args.requests) for store in stores] for query in queries
        }

    small, large = stores
    print(
        f"\nGET /v1/images?<filter>&limit={PAGE} as owner {QUERYING_OWNER!r}: {args.requests} requests per query"
        f" and store after {args.warm_up} warm-up, alternating stores; latency in ms"
    )
    print(
        f"{'filter':<36} {'matches':>13} {'p50 ms':>13} {'p95 ms':>13} {'10k/1k':>13} {'store p50':>13}\n"
        f"{'':<36} {'1k':>6} {'10k':>6} {'1k':>6} {'10k':>6} {'1k':>6} {'10k':>6} {'p50':>6} {'p95':>6}"
        f" {'1k':>6} {'10k':>6}"
    )
    ratios = []
    for query, (at_small, at_large) in results.items():
        p50 = (statistics.median(at_small), statistics.median(at_large))
        p95 = (percentile(at_small, 0.95), percentile(at_large, 0.95))
        ratios.append((p50[1] / p50[0], p95[1] / p95[0]))
        store_p50 = [statistics.median(latencies) for latencies in in_store[query]]
        print(
            f"{query[0] + '=' + query[1]:<36.36} {small.owned_terms[query]:6d} {large.owned_terms[query]:6d}"
            f" {p50[0]:6.1f} {p50[1]:6.1f} {p95[0]:6.1f} {p95[1]:6.1f} {ratios[-1][0]:6.2f} {ratios[-1][1]:6.2f}"
            f" {store_p50[0]:6.2f} {store_p50[1]:6.2f}"
        )
    all_small = [ms for at_small, _ in results.values() for ms in at_small]
    all_large = [ms for _, at_large in results.values() for ms in at_large]
    p50_ratio = statistics.median(all_large) / statistics.median(all_small)
    p95_ratio = percentile(all_large, 0.95) / percentile(all_small, 0.95)
    print(
        f"{'all filters':<36} {'':>13} {statistics.median(all_small):6.1f} {statistics.median(all_large):6.1f}"
        f" {percentile(all_small, 0.95):6.1f} {percentile(all_large, 0.95):6.1f} {p50_ratio:6.2f} {p95_ratio:6.2f}"
    )
    print("  store p50: SqliteMetadataStore.query alone, in this process (the rest of the latency is HTTP, JSON, URLs)")
    worst = max(max(pair) for pair in ratios)
    verdict = "met" if max(p50_ratio, p95_ratio) <= RATIO_TARGET else "MISSED"
    print(
        f"\nlatency ratio {args.large // 1000}k/{args.small // 1000}k: p50 {p50_ratio:.2f}x, p95 {p95_ratio:.2f}x"
        f" (worst single filter {worst:.2f}x); target <= {RATIO_TARGET}x (flat: an index range, not a scan): {verdict}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
