"""``AnalyticsLake``: the pipeline's analytics events in S3, queryable with Athena (QuickSight optional).

The pipeline's functions print analytics events as JSON log lines. A subscription filter on each of
their log groups sends exactly those lines to the exporter function, which writes them as gzip JSON
lines to ``analytics/events/dt=YYYY-MM-DD/`` of the pipeline's bucket (``lambdas.analytics``). A Glue
Data Catalog table over that prefix projects the ``dt`` partitions (no crawler needed to query); an
Athena workgroup with enforced settings, a bytes-scanned cutoff and encrypted results runs the saved
queries of ``lambdas/analytics/queries/``. A crawler, a Glue job that rewrites the events as Parquet
and QuickSight (a data source, data sets, and an analysis and a dashboard of the saved queries' figures,
defined in ``constructs_lib.quicksight_views``) are optional and off by default (QuickSight is not free).

Size: one construct; most of its length is the Glue, Athena and QuickSight resources and their
least-privilege roles, each written once (the function itself is ``constructs_lib.function``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from cdktf_cdktf_provider_aws.athena_named_query import AthenaNamedQuery
from cdktf_cdktf_provider_aws.athena_workgroup import (
    AthenaWorkgroup,
    AthenaWorkgroupConfiguration,
    AthenaWorkgroupConfigurationResultConfiguration,
    AthenaWorkgroupConfigurationResultConfigurationEncryptionConfiguration,
)
from cdktf_cdktf_provider_aws.cloudwatch_log_subscription_filter import CloudwatchLogSubscriptionFilter
from cdktf_cdktf_provider_aws.glue_catalog_database import GlueCatalogDatabase
from cdktf_cdktf_provider_aws.glue_catalog_table import (
    GlueCatalogTable,
    GlueCatalogTablePartitionKeys,
    GlueCatalogTableStorageDescriptor,
    GlueCatalogTableStorageDescriptorColumns,
    GlueCatalogTableStorageDescriptorSerDeInfo,
)
from cdktf_cdktf_provider_aws.glue_crawler import (
    GlueCrawler,
    GlueCrawlerCatalogTarget,
    GlueCrawlerSchemaChangePolicy,
)
from cdktf_cdktf_provider_aws.glue_job import GlueJob, GlueJobCommand
from cdktf_cdktf_provider_aws.glue_security_configuration import (
    GlueSecurityConfiguration,
    GlueSecurityConfigurationEncryptionConfiguration,
    GlueSecurityConfigurationEncryptionConfigurationCloudwatchEncryption,
    GlueSecurityConfigurationEncryptionConfigurationJobBookmarksEncryption,
    GlueSecurityConfigurationEncryptionConfigurationS3Encryption,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.quicksight_analysis import QuicksightAnalysis, QuicksightAnalysisPermissions
from cdktf_cdktf_provider_aws.quicksight_dashboard import QuicksightDashboard, QuicksightDashboardPermissions
from cdktf_cdktf_provider_aws.quicksight_data_set import (
    QuicksightDataSet,
    QuicksightDataSetPermissions,
    QuicksightDataSetPhysicalTableMap,
    QuicksightDataSetPhysicalTableMapCustomSql,
    QuicksightDataSetPhysicalTableMapCustomSqlColumns,
    QuicksightDataSetPhysicalTableMapRelationalTable,
    QuicksightDataSetPhysicalTableMapRelationalTableInputColumns,
)
from cdktf_cdktf_provider_aws.quicksight_data_source import (
    QuicksightDataSource,
    QuicksightDataSourceParameters,
    QuicksightDataSourceParametersAthena,
    QuicksightDataSourcePermission,
)
from cdktf_cdktf_provider_aws.s3_object import S3Object
from constructs import Construct

from constructs_lib import grants
from constructs_lib.function import FunctionBlock, FunctionBlockProps
from constructs_lib.grants import Statement
from constructs_lib.iam import account_wide_name, service_trust_policy
from constructs_lib.image_pipeline import ImagePipeline
from constructs_lib.props import QUICKSIGHT_PRINCIPAL, FunctionSize, PropsError
from constructs_lib.quicksight_views import EVENT_DATA_SET_COLUMNS, FIGURES, QUICKSIGHT_TYPES, FigureDataSet, definition
from lambdas.analytics.queries import saved_queries
from lambdas.contract import (
    ANALYTICS_PREFIX,
    ATHENA_RESULTS_PREFIX,
    EVENTS_PREFIX,
    EVENTS_TABLE,
    REJECTED_PREFIX,
    STEPS,
    SUBSCRIPTION_FILTER_PATTERN,
    Env,
)
from lambdas.domain.events import DAY_PARTITION, EVENT_FIELDS, TABLE_COLUMNS

#: Where Athena writes query results (the pipeline's bucket expires them), and where the optional Glue
#: job writes Parquet.
RESULTS_PREFIX = ATHENA_RESULTS_PREFIX
PARQUET_PREFIX = f"{ANALYTICS_PREFIX}parquet/"
GLUE_SCRIPTS_PREFIX = f"{ANALYTICS_PREFIX}glue-scripts/"

#: Functions whose log lines carry analytics events: the steps (upload, processed, failed) and the API
#: (view, search, delete). The redrive function emits none.
EVENT_SOURCES = (*STEPS, "api")

EXPORTER_HANDLER = "lambdas.handlers.exporter.handler"

#: Columns of the events table, ``(name, Glue type, comment)``, in the order of ``AnalyticsEvent.to_dict``:
#: derived from the event's fields (``lambdas.domain.events.EVENT_FIELDS``), as DuckDB's are in
#: ``imgmgr.stats``; ``dt`` is the projected partition.
EVENT_COLUMNS: tuple[tuple[str, str, str], ...] = tuple(
    (item.name, item.type.glue, item.comment) for item in EVENT_FIELDS
)
PARTITION_COLUMN = DAY_PARTITION.name

#: Glue catalog actions the optional crawler needs to add partitions to the events table.
CATALOG_UPDATE_ACTIONS = (
    "glue:BatchCreatePartition",
    "glue:BatchGetPartition",
    "glue:BatchUpdatePartition",
    "glue:CreatePartition",
    "glue:GetDatabase",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:GetTable",
    "glue:UpdatePartition",
    "glue:UpdateTable",
)
#: Log actions of Glue crawlers and jobs, which write to log groups that Glue creates itself.
#: What the API runs its usage figures with (``lambdas.adapters.aws.athena``): start, wait, read, and stop
#: the queries no one waits for any more.
FIGURE_QUERY_ACTIONS = (
    "athena:GetQueryExecution",
    "athena:GetQueryResults",
    "athena:StartQueryExecution",
    "athena:StopQueryExecution",
)
#: What the API keeps of its function's time, beyond its wait for Athena's answers, to stop the queries
#: and answer.
FIGURES_TIME_MARGIN_SECONDS = 5
#: Reading the events table's definition (Athena projects its partitions: it never reads them from Glue).
CATALOG_READ_ACTIONS = ("glue:GetDatabase", "glue:GetTable")
GLUE_LOG_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")

#: QuickSight actions given to the principal on the data source and the data set.
QUICKSIGHT_DATA_SOURCE_ACTIONS = (
    "quicksight:DescribeDataSource",
    "quicksight:DescribeDataSourcePermissions",
    "quicksight:PassDataSource",
)
QUICKSIGHT_DATA_SET_ACTIONS = (
    "quicksight:DescribeDataSet",
    "quicksight:DescribeDataSetPermissions",
    "quicksight:DescribeIngestion",
    "quicksight:ListIngestions",
    "quicksight:PassDataSet",
)
#: Owner actions on the analysis, as AWS lists them for sharing an analysis (UpdateAnalysisPermissions).
QUICKSIGHT_ANALYSIS_ACTIONS = (
    "quicksight:DeleteAnalysis",
    "quicksight:DescribeAnalysis",
    "quicksight:DescribeAnalysisPermissions",
    "quicksight:QueryAnalysis",
    "quicksight:RestoreAnalysis",
    "quicksight:UpdateAnalysis",
    "quicksight:UpdateAnalysisPermissions",
)
#: Viewer actions on the dashboard: open it, list its versions, query its visuals.
QUICKSIGHT_DASHBOARD_ACTIONS = (
    "quicksight:DescribeDashboard",
    "quicksight:ListDashboardVersions",
    "quicksight:QueryDashboard",
)

#: Athena's smallest cutoff (and its billing minimum per query): 10 MB.
MIN_BYTES_SCANNED_CUTOFF = 10 * 1024 * 1024
GiB = 1024**3

_DATABASE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,254}$")
_SCHEDULE = re.compile(r"^cron\(.+\)$")

#: The optional Glue job: the events rewritten as Parquet, one row per event id, by day.
PREPARE_SCRIPT = '''"""Rewrites the analytics events (gzip JSON lines) as Parquet, each event once, partitioned by day."""
import sys

from awsglue.utils import getResolvedOptions
from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F

SCHEMA = "{schema}"  # the columns of the events table, so that Parquet holds the same types

args = getResolvedOptions(sys.argv, ["source", "target"])
spark = SparkSession.builder.config("spark.sql.sources.partitionOverwriteMode", "dynamic").getOrCreate()
events = spark.read.schema(SCHEMA).json(args["source"])  # dt=YYYY-MM-DD directories fill the dt column
first = Window.partitionBy("event_id").orderBy("occurred_at")
events = events.withColumn("delivery", F.row_number().over(first)).where("delivery = 1").drop("delivery")
events.write.mode("overwrite").partitionBy("dt").parquet(args["target"])
'''


@dataclass(frozen=True, kw_only=True)
class AnalyticsLakeProps:
    """Options of ``AnalyticsLake``. Everything that costs money beyond the Free Tier is off by default."""

    pipeline: ImagePipeline
    """The pipeline whose events are collected: its bucket, log groups, layer and dead-letter queue. Required."""

    exporter_size: FunctionSize = FunctionSize(memory_mb=256, timeout_seconds=60)  # noqa: RUF009 (frozen, shared safely)
    """Memory and timeout of the exporter function (it decodes one payload of at most 1 MB).
    Default: 256 MB, 60 s."""

    database_name: str | None = None
    """Glue database of the events table: lowercase letters, digits and underscores (Athena refuses
    dashes); ``None`` is the pipeline's name prefix with underscores, plus ``_analytics``. Default: ``None``."""

    bytes_scanned_cutoff_per_query: int = GiB
    """Athena cancels a query of the workgroup that scans more than this many bytes (at least 10 MB).
    At 5 USD per TB scanned, 1 GiB costs at most half a cent. Default: 1 GiB."""

    projection_start_date: str = "2026-01-01"
    """First day (``YYYY-MM-DD``) of the projected ``dt`` partitions; the range ends today. A query
    without a ``dt`` filter lists every day of the range. Default: ``"2026-01-01"``."""

    enable_crawler: bool = False
    """Create a Glue crawler that records the partitions of the events table in the catalog (for tools
    that read the catalog without partition projection; Athena does not need it). Billed per DPU-hour
    when it runs. Default: ``False``."""

    crawler_schedule: str | None = None
    """``cron(...)`` schedule of the crawler; ``None`` runs it only on demand. Default: ``None``."""

    enable_parquet_job: bool = False
    """Create a Glue job (and the ``events_parquet`` table) that rewrites the events as Parquet under
    ``analytics/parquet/``, each event once: cheaper scans for large volumes. Billed per DPU-hour when
    it runs. Default: ``False``."""

    enable_quicksight: bool = False
    """Create a QuickSight Athena data source, a data set over the events table, one data set per saved
    query (its SQL and its declared columns) and an analysis and a dashboard charting their results
    (``constructs_lib.quicksight_views``): the same figures as the API and Athena. QuickSight is not in
    the always-free tier (Enterprise edition: 24 USD a month per author, 3 USD per reader, as
    aws.amazon.com/quicksight/pricing listed them on 2026-10-07) and the account must already be
    subscribed to it: the construct creates no subscription. Default: ``False``."""

    quicksight_principal_arn: str | None = None
    """QuickSight user or group ARN given access to the data source and the data sets (describe, pass),
    the analysis (owner actions) and the dashboard (viewer actions); ``None`` gives nobody access (a
    QuickSight administrator shares them). Default: ``None``."""

    def __post_init__(self) -> None:
        if not isinstance(self.pipeline, ImagePipeline):
            raise PropsError(f"pipeline: expected an ImagePipeline, got {type(self.pipeline).__name__}")
        if not isinstance(self.exporter_size, FunctionSize):
            raise PropsError(f"exporter_size: expected a FunctionSize, got {type(self.exporter_size).__name__}")
        self.exporter_size.validate("exporter_size")
        if self.database_name is not None and not _DATABASE_NAME.match(self.database_name):
            raise PropsError(
                f"database_name: {self.database_name!r} must be lowercase letters, digits and underscores, "
                "starting with a letter"
            )
        cutoff = self.bytes_scanned_cutoff_per_query
        if isinstance(cutoff, bool) or not isinstance(cutoff, int) or cutoff < MIN_BYTES_SCANNED_CUTOFF:
            raise PropsError(
                f"bytes_scanned_cutoff_per_query: {cutoff!r} must be an integer of at least "
                f"{MIN_BYTES_SCANNED_CUTOFF} (10 MB)"
            )
        try:
            date.fromisoformat(self.projection_start_date)
        except (TypeError, ValueError):
            raise PropsError(
                f"projection_start_date: {self.projection_start_date!r} must be a date YYYY-MM-DD"
            ) from None
        if len(self.projection_start_date) != 10:
            raise PropsError(f"projection_start_date: {self.projection_start_date!r} must be a date YYYY-MM-DD")
        if self.crawler_schedule is not None:
            if not self.enable_crawler:
                raise PropsError("crawler_schedule: set only with enable_crawler=True")
            if not _SCHEDULE.match(self.crawler_schedule):
                raise PropsError(f"crawler_schedule: {self.crawler_schedule!r} must look like 'cron(0 3 * * ? *)'")
        if self.quicksight_principal_arn is not None and not QUICKSIGHT_PRINCIPAL.match(self.quicksight_principal_arn):
            raise PropsError(
                f"quicksight_principal_arn: {self.quicksight_principal_arn!r} must be a QuickSight user or group ARN"
            )

    @property
    def resolved_database_name(self) -> str:
        """``database_name``, or the default derived from the pipeline's name prefix."""
        return self.database_name or f"{self.pipeline.props.name_prefix.replace('-', '_')}_analytics"


class AnalyticsLake(Construct):
    """Exporter function, subscriptions, Glue catalog, Athena workgroup and saved queries of the events.

    Children are typed attributes (``exporter``, ``exporter_role``, ``exporter_log_group``,
    ``subscription_filters``, ``database``, ``events_table``, ``workgroup``, ``named_queries``, and
    ``crawler``, ``parquet_job``, ``quicksight_data_source``, ``quicksight_data_set``,
    ``quicksight_views`` (the analysis's data sets by saved query name), ``quicksight_analysis`` and
    ``quicksight_dashboard`` when enabled).
    The construct creates no provider: the stack does.
    """

    def __init__(self, scope: Construct, id: str, *, props: AnalyticsLakeProps) -> None:
        super().__init__(scope, id)
        self.props = props
        self.pipeline = pipeline = props.pipeline
        self._prefix = pipeline.props.name_prefix
        self.database_name = props.resolved_database_name
        self._bucket_url = f"s3://{pipeline.bucket.bucket}"

        self.exporter = self._exporter()
        self.subscription_filters = self._subscriptions()
        self.database = GlueCatalogDatabase(
            self,
            "database",
            name=self.database_name,
            description=f"Analytics events of {self._prefix} (exported from the functions' logs)",
        )
        self.events_table = self._table(EVENTS_TABLE, EVENTS_PREFIX, json_lines=True)
        self.workgroup = self._workgroup()
        self.named_queries = self._named_queries()
        self.figures_policy = self._serve_figures()
        self._glue_security: GlueSecurityConfiguration | None = None
        self.crawler = self._crawler() if props.enable_crawler else None
        self.parquet_job = self._parquet_job() if props.enable_parquet_job else None
        self.quicksight_data_source: QuicksightDataSource | None = None
        self.quicksight_data_set: QuicksightDataSet | None = None
        self.quicksight_views: dict[str, QuicksightDataSet] = {}
        self.quicksight_analysis: QuicksightAnalysis | None = None
        self.quicksight_dashboard: QuicksightDashboard | None = None
        if props.enable_quicksight:
            self._quicksight()

    # ---------------------------------------------------------------------------------------- exporter

    def _exporter(self) -> LambdaFunction:
        pipeline = self.pipeline
        function_name = f"{self._prefix}-exporter"
        block = FunctionBlock(
            self,
            "exporter",
            props=FunctionBlockProps(
                function_name=function_name,
                role_name=account_wide_name(self._prefix, "exporter", pipeline.region.name),
                description="Writes the analytics events of the pipeline's logs to analytics/events/",
                handler=EXPORTER_HANDLER,
                # The pipeline's own archive and layer: every function of the stack deploys one archive of lambdas/.
                code=pipeline.code,
                size=self.props.exporter_size,
                environment={
                    Env.BUCKET: pipeline.bucket.bucket,
                    # lambdas.config requires the table of every function; the exporter never uses it.
                    Env.TABLE: pipeline.table.name,
                    "POWERTOOLS_SERVICE_NAME": self._prefix,
                    "POWERTOOLS_LOG_LEVEL": pipeline.props.log_level,
                },
                log_retention_days=pipeline.props.log_retention_days,
            ),
        )
        self.exporter_log_group, self.exporter_role = block.log_group, block.role
        # Reading and listing its own prefixes lets HeadObject tell a missing object (404) from a refusal
        # (403), which is how a redelivered payload is recognised.
        own = [EVENTS_PREFIX, REJECTED_PREFIX]
        block.grant(
            grants.write_objects(pipeline.bucket.arn, own, sid="WriteEvents"),
            grants.read_objects(pipeline.bucket.arn, own, sid="ReadEvents"),
            grants.list_objects(pipeline.bucket.arn, own, sid="ListEvents"),
        )
        # CloudWatch Logs invokes asynchronously: after the retries a payload goes to the pipeline's
        # dead-letter queue, which `imgmgr redrive` replays (exporting again is idempotent).
        block.invoke_asynchronously(
            retry_attempts=pipeline.props.max_retry_attempts,
            max_event_age_seconds=pipeline.props.max_event_age_seconds,
            dead_letter_queue_arn=pipeline.dead_letter_queue.arn,
        )
        block.attach_policy()
        function = block.function
        # The redrive function replays each dead-letter message on the function that failed it.
        IamRolePolicy(
            self,
            "redrive-exporter-policy",
            role=pipeline.roles["redrive"].id,
            name=f"{function_name}-redrive",
            policy=grants.policy_document(
                self,
                "redrive-exporter-policy-document",
                [grants.invoke_functions([function.arn], sid="ReplayExporter")],
            ).json,
        )
        return function

    def _subscriptions(self) -> dict[str, CloudwatchLogSubscriptionFilter]:
        filters = {}
        for name in EVENT_SOURCES:
            log_group = self.pipeline.log_groups[name]
            permission = LambdaPermission(
                self,
                f"{name}-logs-permission",
                statement_id=f"AllowLogs{name.capitalize()}",
                action="lambda:InvokeFunction",
                function_name=self.exporter.function_name,
                principal="logs.amazonaws.com",
                source_arn=f"{log_group.arn}:*",
                source_account=self.pipeline.caller.account_id,
            )
            filters[name] = CloudwatchLogSubscriptionFilter(
                self,
                f"{name}-subscription",
                name=f"{self._prefix}-analytics-{name}",
                log_group_name=log_group.name,
                filter_pattern=SUBSCRIPTION_FILTER_PATTERN,
                destination_arn=self.exporter.arn,
                depends_on=[permission],
            )
        return filters

    # ---------------------------------------------------------------------------------------- catalog

    def _table(self, name: str, prefix: str, *, json_lines: bool) -> GlueCatalogTable:
        """A table over ``prefix`` whose ``dt`` partitions are projected (no partition is ever stored)."""
        if json_lines:
            input_format = "org.apache.hadoop.mapred.TextInputFormat"
            output_format = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
            ser_de_info = GlueCatalogTableStorageDescriptorSerDeInfo(
                name="json",
                serialization_library="org.openx.data.jsonserde.JsonSerDe",
                # A bad line fails the query loudly rather than reading as nulls.
                parameters={"ignore.malformed.json": "false"},
            )
            classification = {"classification": "json", "compressionType": "gzip"}
        else:
            input_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
            output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
            ser_de_info = GlueCatalogTableStorageDescriptorSerDeInfo(
                name="parquet",
                serialization_library="org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
            )
            classification = {"classification": "parquet"}
        return GlueCatalogTable(
            self,
            f"{name.replace('_', '-')}-table",
            name=name,
            database_name=self.database.name,
            description=f"Analytics events under {prefix} of the pipeline's bucket, one partition per UTC day",
            table_type="EXTERNAL_TABLE",
            parameters={
                "EXTERNAL": "TRUE",
                **classification,
                "projection.enabled": "true",
                f"projection.{PARTITION_COLUMN}.type": "date",
                f"projection.{PARTITION_COLUMN}.format": "yyyy-MM-dd",
                f"projection.{PARTITION_COLUMN}.range": f"{self.props.projection_start_date},NOW",
                f"projection.{PARTITION_COLUMN}.interval": "1",
                f"projection.{PARTITION_COLUMN}.interval.unit": "DAYS",
                # The default location of a projected partition is <location>/dt=<value>/, the exporter's layout.
            },
            partition_keys=[
                GlueCatalogTablePartitionKeys(
                    name=DAY_PARTITION.name, type=DAY_PARTITION.glue, comment=DAY_PARTITION.comment
                )
            ],
            storage_descriptor=GlueCatalogTableStorageDescriptor(
                location=f"{self._bucket_url}/{prefix}",
                columns=[
                    GlueCatalogTableStorageDescriptorColumns(name=column, type=kind, comment=comment)
                    for column, kind, comment in EVENT_COLUMNS
                ],
                input_format=input_format,
                output_format=output_format,
                ser_de_info=ser_de_info,
            ),
        )

    # ----------------------------------------------------------------------------------------- athena

    def _workgroup(self) -> AthenaWorkgroup:
        return AthenaWorkgroup(
            self,
            "workgroup",
            name=f"{self._prefix}-analytics",
            description=f"Saved queries over the analytics events of {self._prefix}",
            configuration=AthenaWorkgroupConfiguration(
                # Clients cannot override the result location, its encryption or the cutoff.
                enforce_workgroup_configuration=True,
                publish_cloudwatch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=self.props.bytes_scanned_cutoff_per_query,
                result_configuration=AthenaWorkgroupConfigurationResultConfiguration(
                    output_location=f"{self._bucket_url}/{RESULTS_PREFIX}",
                    # SSE-S3 costs nothing; SSE-KMS would need a customer-managed key (1 USD a month).
                    encryption_configuration=AthenaWorkgroupConfigurationResultConfigurationEncryptionConfiguration(
                        encryption_option="SSE_S3"
                    ),
                ),
            ),
        )

    def _serve_figures(self) -> IamRolePolicy:
        """Let the pipeline's API answer ``GET /v1/analytics`` with the saved queries in the workgroup: its
        settings, and a policy of its role to run them and read what they read (``lambdas.adapters.aws.athena``)."""
        api = self.pipeline.function_block("api")
        # The API answers before its function times out, with time to stop the queries and say why.
        wait = max(1, api.props.size.timeout_seconds - FIGURES_TIME_MARGIN_SECONDS)
        api.add_environment(
            {
                Env.ANALYTICS_WORKGROUP: self.workgroup.name,
                Env.ANALYTICS_DATABASE: self.database.name,
                Env.ANALYTICS_TIMEOUT_SECONDS: str(wait),
            }
        )
        bucket_arn = self.pipeline.bucket.arn
        return api.add_policy(
            "analytics",
            [
                Statement("RunFigureQueries", FIGURE_QUERY_ACTIONS, (self.workgroup.arn,)),
                Statement("ReadEventsTable", CATALOG_READ_ACTIONS, self._catalog_arns([EVENTS_TABLE])),
                # Athena reads the events and writes, then reads, the results with the caller's rights.
                grants.read_objects(bucket_arn, [EVENTS_PREFIX, ATHENA_RESULTS_PREFIX], sid="ReadEventsAndResults"),
                grants.write_objects(bucket_arn, [ATHENA_RESULTS_PREFIX], sid="WriteResults"),
                grants.list_objects(bucket_arn, [EVENTS_PREFIX, ATHENA_RESULTS_PREFIX], sid="ListEventsAndResults"),
                Statement("LocateBucket", ("s3:GetBucketLocation",), (bucket_arn,)),
            ],
        )

    def _named_queries(self) -> dict[str, AthenaNamedQuery]:
        relation = f'"{self.database_name}"."{EVENTS_TABLE}"'
        return {
            query.name: AthenaNamedQuery(
                self,
                f"query-{query.name.replace('_', '-')}",
                name=query.name,
                description=query.description,
                database=self.database.name,
                workgroup=self.workgroup.name,
                query=query.render(relation),
            )
            for query in saved_queries()
        }

    # --------------------------------------------------------------------------------- optional: glue

    def _glue_role(self, name: str, statements: Sequence[Statement]) -> IamRole:
        role = IamRole(
            self,
            f"{name}-role",
            name=account_wide_name(self._prefix, name, self.pipeline.region.name),
            description=f"Role of the {name} of {self._prefix}'s analytics lake: only what it does",
            assume_role_policy=service_trust_policy(self, f"{name}-trust", "glue.amazonaws.com").json,
        )
        IamRolePolicy(
            self,
            f"{name}-policy",
            role=role.id,
            name=f"{self._prefix}-{name}-permissions",
            policy=grants.policy_document(self, f"{name}-policy-document", statements).json,
        )
        return role

    def _security_configuration(self) -> GlueSecurityConfiguration:
        """One security configuration for the crawler and the job: what they write to S3 is encrypted."""
        if self._glue_security is None:
            self._glue_security = GlueSecurityConfiguration(
                self,
                "glue-security",
                name=f"{self._prefix}-analytics",
                encryption_configuration=GlueSecurityConfigurationEncryptionConfiguration(
                    s3_encryption=GlueSecurityConfigurationEncryptionConfigurationS3Encryption(
                        s3_encryption_mode="SSE-S3"
                    ),
                    # Encrypting logs and bookmarks needs a customer-managed KMS key (1 USD a month);
                    # CloudWatch Logs encrypts at rest anyway and the job keeps no bookmarks.
                    cloudwatch_encryption=GlueSecurityConfigurationEncryptionConfigurationCloudwatchEncryption(
                        cloudwatch_encryption_mode="DISABLED"
                    ),
                    job_bookmarks_encryption=GlueSecurityConfigurationEncryptionConfigurationJobBookmarksEncryption(
                        job_bookmarks_encryption_mode="DISABLED"
                    ),
                ),
            )
        return self._glue_security

    def _glue_logs(self, kind: str) -> Statement:
        """Write the log groups Glue creates for crawlers or jobs (``/aws-glue/<kind>*``)."""
        pipeline = self.pipeline
        arn = (
            f"arn:{pipeline.partition.partition}:logs:{pipeline.region.name}:{pipeline.caller.account_id}"
            f":log-group:/aws-glue/{kind}*"
        )
        return Statement("WriteGlueLogs", GLUE_LOG_ACTIONS, (arn, f"{arn}:*"))

    def _catalog_arns(self, tables: Sequence[str]) -> tuple[str, ...]:
        pipeline = self.pipeline
        base = f"arn:{pipeline.partition.partition}:glue:{pipeline.region.name}:{pipeline.caller.account_id}"
        return (
            f"{base}:catalog",
            f"{base}:database/{self.database_name}",
            *(f"{base}:table/{self.database_name}/{table}" for table in tables),
        )

    def _crawler(self) -> GlueCrawler:
        bucket_arn = self.pipeline.bucket.arn
        role = self._glue_role(
            "crawler",
            [
                Statement("UpdateEventsTable", CATALOG_UPDATE_ACTIONS, self._catalog_arns([EVENTS_TABLE])),
                grants.read_objects(bucket_arn, [EVENTS_PREFIX], sid="ReadEvents"),
                grants.list_objects(bucket_arn, [EVENTS_PREFIX], sid="ListEvents"),
                self._glue_logs("crawlers"),
            ],
        )
        return GlueCrawler(
            self,
            "crawler",
            name=f"{self._prefix}-analytics-events",
            description="Records the dt partitions of the events table (Athena projects them without it)",
            role=role.arn,
            database_name=self.database.name,
            catalog_target=[GlueCrawlerCatalogTarget(database_name=self.database.name, tables=[EVENTS_TABLE])],
            # A catalog target may only log schema changes: the table stays as this construct defines it.
            schema_change_policy=GlueCrawlerSchemaChangePolicy(delete_behavior="LOG", update_behavior="LOG"),
            schedule=self.props.crawler_schedule,
            security_configuration=self._security_configuration().name,
            depends_on=[self.events_table],
        )

    def _parquet_job(self) -> GlueJob:
        bucket_arn = self.pipeline.bucket.arn
        script = S3Object(
            self,
            "prepare-script",
            bucket=self.pipeline.bucket.bucket,
            key=f"{GLUE_SCRIPTS_PREFIX}prepare_events.py",
            content=PREPARE_SCRIPT.replace("{schema}", _spark_schema()),
            content_type="text/x-python",
        )
        self.parquet_table = self._table("events_parquet", PARQUET_PREFIX, json_lines=False)
        role = self._glue_role(
            "prepare-job",
            [
                grants.read_objects(bucket_arn, [EVENTS_PREFIX, GLUE_SCRIPTS_PREFIX], sid="ReadEventsAndScript"),
                grants.list_objects(bucket_arn, [EVENTS_PREFIX, PARQUET_PREFIX], sid="ListEvents"),
                # Spark writes through a temporary directory under the target and renames into place.
                Statement(
                    "WriteParquet",
                    (*grants.OBJECT_READ_ACTIONS, *grants.OBJECT_WRITE_ACTIONS, *grants.OBJECT_DELETE_ACTIONS),
                    grants.object_arns(bucket_arn, [PARQUET_PREFIX]),
                ),
                self._glue_logs("jobs"),
            ],
        )
        return GlueJob(
            self,
            "prepare-job",
            name=f"{self._prefix}-analytics-parquet",
            description="Rewrites the analytics events as Parquet under analytics/parquet/, each event once",
            role_arn=role.arn,
            glue_version="5.0",
            worker_type="G.1X",
            number_of_workers=2,
            timeout=30,
            max_retries=0,
            security_configuration=self._security_configuration().name,
            command=GlueJobCommand(
                name="glueetl", python_version="3", script_location=f"{self._bucket_url}/{script.key}"
            ),
            default_arguments={
                "--source": f"{self._bucket_url}/{EVENTS_PREFIX}",
                "--target": f"{self._bucket_url}/{PARQUET_PREFIX}",
                "--job-language": "python",
            },
        )

    # --------------------------------------------------------------------------- optional: quicksight

    def _quicksight(self) -> None:
        principal = self.props.quicksight_principal_arn
        source_id = f"{self._prefix}-analytics"
        self.quicksight_data_source = QuicksightDataSource(
            self,
            "quicksight-data-source",
            data_source_id=source_id,
            name=f"{self._prefix} analytics (Athena)",
            type="ATHENA",
            parameters=QuicksightDataSourceParameters(
                athena=QuicksightDataSourceParametersAthena(work_group=self.workgroup.name)
            ),
            permission=[
                QuicksightDataSourcePermission(principal=principal, actions=list(QUICKSIGHT_DATA_SOURCE_ACTIONS))
            ]
            if principal
            else None,
        )
        self.quicksight_data_set = QuicksightDataSet(
            self,
            "quicksight-data-set",
            data_set_id=f"{self._prefix}-analytics-events",
            name=f"{self._prefix} analytics events",
            # Direct query: no SPICE capacity to pay for; Athena's cutoff still bounds each query.
            import_mode="DIRECT_QUERY",
            physical_table_map=[
                QuicksightDataSetPhysicalTableMap(
                    physical_table_map_id="events",
                    relational_table=QuicksightDataSetPhysicalTableMapRelationalTable(
                        data_source_arn=self.quicksight_data_source.arn,
                        catalog="AwsDataCatalog",
                        schema=self.database_name,
                        name=EVENTS_TABLE,
                        input_columns=[
                            QuicksightDataSetPhysicalTableMapRelationalTableInputColumns(
                                name=column.name, type=QUICKSIGHT_TYPES[column.glue]
                            )
                            for column in EVENT_DATA_SET_COLUMNS
                        ],
                    ),
                )
            ],
            permissions=self._data_set_permissions(),
        )
        source = self.quicksight_data_source
        self.quicksight_views = {figure.identifier: self._figure(figure, source) for figure in FIGURES}
        arns = {identifier: data_set.arn for identifier, data_set in self.quicksight_views.items()}
        self.quicksight_analysis = QuicksightAnalysis(
            self,
            "quicksight-analysis",
            analysis_id=f"{self._prefix}-analytics",
            name=f"{self._prefix} analytics",
            definition=definition(arns),
            permissions=[QuicksightAnalysisPermissions(principal=principal, actions=list(QUICKSIGHT_ANALYSIS_ACTIONS))]
            if principal
            else None,
        )
        self.quicksight_dashboard = QuicksightDashboard(
            self,
            "quicksight-dashboard",
            dashboard_id=f"{self._prefix}-analytics",
            name=f"{self._prefix} analytics",
            version_description="Defined by the stack (constructs_lib.quicksight_views)",
            definition=definition(arns),
            permissions=[
                QuicksightDashboardPermissions(principal=principal, actions=list(QUICKSIGHT_DASHBOARD_ACTIONS))
            ]
            if principal
            else None,
        )

    def _data_set_permissions(self) -> list[QuicksightDataSetPermissions] | None:
        principal = self.props.quicksight_principal_arn
        if not principal:
            return None
        return [QuicksightDataSetPermissions(principal=principal, actions=list(QUICKSIGHT_DATA_SET_ACTIONS))]

    def _figure(self, figure: FigureDataSet, source: QuicksightDataSource) -> QuicksightDataSet:
        """A direct-query data set of the analysis: one saved query over the events table, with the columns
        it declares."""
        name = figure.identifier.replace("_", "-")
        return QuicksightDataSet(
            self,
            f"quicksight-{name}",
            data_set_id=f"{self._prefix}-analytics-{name}",
            name=f"{self._prefix} {figure.identifier}",
            import_mode="DIRECT_QUERY",
            physical_table_map=[
                QuicksightDataSetPhysicalTableMap(
                    physical_table_map_id=figure.identifier,
                    custom_sql=QuicksightDataSetPhysicalTableMapCustomSql(
                        data_source_arn=source.arn,
                        name=figure.identifier,
                        sql_query=figure.sql(f'"{self.database_name}"."{EVENTS_TABLE}"'),
                        columns=[
                            QuicksightDataSetPhysicalTableMapCustomSqlColumns(name=column, type=kind)
                            for column, kind in figure.columns
                        ],
                    ),
                )
            ],
            permissions=self._data_set_permissions(),
        )


def _spark_schema() -> str:
    """The events table's columns (and ``dt``) as a Spark DDL schema string."""
    return ", ".join(f"`{column.name}` {column.glue.upper()}" for column in TABLE_COLUMNS)


def outputs_of(lake: AnalyticsLake) -> Mapping[str, str]:
    """Values worth printing after a deploy, by output name (``<thing>_<attr>``)."""
    return {
        "analytics_database_name": lake.database.name,
        "analytics_workgroup_name": lake.workgroup.name,
        "exporter_function_name": lake.exporter.function_name,
    }
