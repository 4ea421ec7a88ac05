"""The analytics lake's exporter core: CloudWatch Logs subscription payloads in, gzip JSON lines out.

``payload`` decodes what CloudWatch Logs delivers, ``schema`` validates an event line against
``lambdas.domain.events``, ``exporter`` writes the valid events to
``analytics/events/dt=YYYY-MM-DD/<name>.json.gz`` through the ``ObjectStore`` port, and ``queries``
holds the saved queries that Athena and DuckDB both run. Nothing here imports boto3.
"""
