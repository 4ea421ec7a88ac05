"""``ImagePipeline``: every AWS resource of the image pipeline, least privilege, reproducible packaging.

Upload -> S3 ``uploads/`` -> compress --on success--> thumbnail --on success--> categorize; a failure of
any step after its retries goes to the dead-letter queue, which the redrive function replays. The API
function (behind API Gateway) presigns uploads, answers queries from the table and starts a failed
image's step again.

Size: one construct; the bucket, the table, the five functions, their grants and the notifications
that chain them are read together (functions: ``constructs_lib.function``; API: ``constructs_lib.pipeline_api``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cdktf import AssetType, TerraformAsset
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.data_aws_region import DataAwsRegion
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTableGlobalSecondaryIndex,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableTtl,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.lambda_layer_version import LambdaLayerVersion
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_cors_configuration import (
    S3BucketCorsConfiguration,
    S3BucketCorsConfigurationCorsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleFilterAnd,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
    S3BucketLifecycleConfigurationRuleTransition,
)
from cdktf_cdktf_provider_aws.s3_bucket_notification import (
    S3BucketNotification,
    S3BucketNotificationLambdaFunction,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct

from constructs_lib import grants
from constructs_lib.function import FunctionBlock, FunctionBlockProps, FunctionCode
from constructs_lib.grants import Statement
from constructs_lib.iam import account_wide_name
from constructs_lib.packaging import Archive, LayerSpec, build_function_zip, build_layer, project_requirements
from constructs_lib.pipeline_api import PipelineApi
from constructs_lib.props import PROJECT_DIR, ImagePipelineProps
from constructs_lib.user_pool import EndUserPool
from lambdas.contract import (
    ATHENA_RESULTS_PREFIX,
    ATTRIBUTE_DEFINITIONS,
    GSI_KEYS,
    GSI_NAMES,
    GSI_PROJECTION,
    IMAGE_STEPS,
    REJECTED_PREFIX,
    RENDITIONS_PREFIX,
    REPLACEABLE_TAG,
    STEP_FUNCTION_ENV,
    STEPS,
    TABLE_KEY_SCHEMA,
    TTL_ATTRIBUTE,
    UPLOADS_PREFIX,
    Env,
)

# The bucket's prefixes, the table's key design and the steps are the contract with the handlers
# (``lambdas.contract``). Athena results expire after ``athena_results_expiration_days``; refused
# analytics lines (``REJECTED_PREFIX``) after ``rejected_events_expiration_days``.
TABLE_HASH_KEY = next(name for name, kind in TABLE_KEY_SCHEMA if kind == "HASH")
TABLE_RANGE_KEY = next(name for name, kind in TABLE_KEY_SCHEMA if kind == "RANGE")

#: Lambda runtime and architecture (the layer is built for exactly these).
RUNTIME = "python3.12"
ARCHITECTURE = "arm64"

#: The pipeline's functions, in the order an image goes through them, then the others.
STEP_FUNCTIONS = STEPS
#: The functions that decode images, whose environment gets ``ImagePipelineProps.allocator_env``.
IMAGE_FUNCTIONS = IMAGE_STEPS
FUNCTION_NAMES = (*STEP_FUNCTIONS, "api", "redrive")

#: Handler entry point of each function inside the function zip.
HANDLERS = {name: f"lambdas.handlers.{name}.handler" for name in FUNCTION_NAMES}

_DESCRIPTIONS = {
    "compress": "Sniffs, orients and compresses an uploaded original into its compressed rendition",
    "thumbnail": "Derives thumbnails and previews from the smallest sufficient rendition",
    "categorize": "Labels the analysis preview with Rekognition and records categories",
    "api": "HTTP API and web page (presigned uploads, queries, deletes, retries)",
    "redrive": "Replays failed pipeline events from the dead-letter queue",
}


class ImagePipeline(Construct):
    """Bucket, table, functions, dead-letter queue and REST API of the image pipeline.

    Children are typed attributes (``bucket``, ``table``, ``functions``, ``roles``, ``log_groups``,
    ``dead_letter_queue``, ``layer``, ``api``, and ``users`` with ``props.cognito``); ``grant_*`` methods
    give another construct's role access without hand-written policies. Every function is a ``FunctionBlock``; another construct's function
    deploys the same archive and layer with ``FunctionBlockProps(code=pipeline.code, ...)``, and
    ``grants.policy_document`` builds a role's policy the way the pipeline builds its own. The construct
    creates no provider: the stack does.
    """

    def __init__(self, scope: Construct, id: str, *, props: ImagePipelineProps | None = None) -> None:
        super().__init__(scope, id)
        self.props = props = props or ImagePipelineProps()
        self._prefix = props.name_prefix

        self.partition = DataAwsPartition(self, "partition")
        self.region = DataAwsRegion(self, "region")
        self.caller = DataAwsCallerIdentity(self, "caller")

        self.function_archive, self.layer_archive = self._build_archives()
        self.dead_letter_queue = SqsQueue(
            self,
            "dead-letters",
            name=f"{self._prefix}-dead-letters",
            message_retention_seconds=props.dead_letter_retention_seconds,
            sqs_managed_sse_enabled=True,
            # A message being replayed stays hidden for as long as one redrive may run.
            visibility_timeout_seconds=props.redrive_size.timeout_seconds,
        )
        self.table = self._table()
        self.bucket = self._bucket()
        self.layer = self._layer()
        # FILE assets are copied as they are: cdktf would re-zip a directory with the current timestamps.
        self.code_asset = TerraformAsset(self, "code-asset", path=str(self.function_archive.path), type=AssetType.FILE)
        self.code = FunctionCode(
            filename=self.code_asset.path,
            source_code_hash=self.function_archive.sha256_base64,
            layer_arn=self.layer.arn,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
        )
        self._blocks = {name: self._function(name) for name in FUNCTION_NAMES}
        self.roles: dict[str, IamRole] = {name: block.role for name, block in self._blocks.items()}
        self.log_groups: dict[str, CloudwatchLogGroup] = {name: block.log_group for name, block in self._blocks.items()}
        self.functions: dict[str, LambdaFunction] = {name: block.function for name, block in self._blocks.items()}
        self._grant_pipeline_permissions()
        self._name_steps_to_api()
        self._wire_destinations()
        self._notify_compress_on_upload()
        self.users = (
            EndUserPool(self, "users", props=props.cognito, name_prefix=self._prefix, region=self.region.name)
            if props.cognito is not None
            else None
        )
        """The end users' pool (``props.cognito``), or ``None``."""
        self.api = PipelineApi(
            self,
            "api",
            props=props,
            function=self.functions["api"],
            partition=self.partition.partition,
            region=self.region.name,
            user_pool_arn=self.users.user_pool.arn if self.users is not None else None,
        )
        self._page_sign_in()
        self._cors()
        self._materialize_policies()

    def function_block(self, name: str) -> FunctionBlock:
        """The block of the function ``name`` (one of ``FUNCTION_NAMES``), for a construct that adds to
        its environment or grants it more (``AnalyticsLake`` lets the API answer usage figures)."""
        return self._blocks[name]

    # ----------------------------------------------------------------------------------------- grants

    def grant_read_uploads(self, role: IamRole) -> None:
        """Let ``role`` read the originals (``uploads/*``)."""
        self._grant(role, grants.read_objects(self.bucket.arn, [UPLOADS_PREFIX], sid="ReadUploads"))

    def grant_write_uploads(self, role: IamRole) -> None:
        """Let ``role`` write originals (``uploads/*``): needed to sign presigned POST uploads."""
        self._grant(role, grants.write_objects(self.bucket.arn, [UPLOADS_PREFIX], sid="WriteUploads"))

    def grant_read_renditions(self, role: IamRole) -> None:
        """Let ``role`` read the renditions (``renditions/*``)."""
        self._grant(role, grants.read_objects(self.bucket.arn, [RENDITIONS_PREFIX], sid="ReadRenditions"))

    def grant_write_renditions(self, role: IamRole) -> None:
        """Let ``role`` write renditions (``renditions/*``)."""
        self._grant(role, grants.write_objects(self.bucket.arn, [RENDITIONS_PREFIX], sid="WriteRenditions"))

    def grant_delete_images(self, role: IamRole) -> None:
        """Let ``role`` delete originals and renditions."""
        prefixes = [UPLOADS_PREFIX, RENDITIONS_PREFIX]
        self._grant(role, grants.delete_objects(self.bucket.arn, prefixes, sid="DeleteImages"))

    def grant_delete_uploads(self, role: IamRole) -> None:
        """Let ``role`` delete originals (``uploads/*``), never the renditions."""
        self._grant(role, grants.delete_objects(self.bucket.arn, [UPLOADS_PREFIX], sid="DeleteUploads"))

    def grant_purge_renditions(self, role: IamRole) -> None:
        """Let ``role`` list and delete renditions (``renditions/*``), never the originals."""
        self._grant(
            role,
            grants.list_objects(self.bucket.arn, [RENDITIONS_PREFIX], sid="ListRenditions"),
            grants.delete_objects(self.bucket.arn, [RENDITIONS_PREFIX], sid="DeleteRenditions"),
        )

    def grant_read_write_table(self, role: IamRole) -> None:
        """Let ``role`` read and write items of the table."""
        self._grant(role, grants.read_table(self.table.arn, GSI_NAMES), grants.write_table(self.table.arn))

    def grant_invoke(self, role: IamRole, function_names: Sequence[str], *, sid: str = "InvokeFunctions") -> None:
        """Let ``role`` invoke the named functions of the pipeline (``"compress"``, ...), in a statement
        ``sid``. Default: ``"InvokeFunctions"``."""
        unknown = sorted(set(function_names) - set(FUNCTION_NAMES))
        if unknown:
            raise ValueError(f"function_names: unknown function(s) {', '.join(unknown)}")
        arns = [self.functions[name].arn for name in function_names]
        self._grant(role, grants.invoke_functions(arns, sid=sid))

    def _grant(self, role: IamRole, *statements: Statement) -> None:
        """Routes every grant: the pipeline's own roles collect statements into one policy each; any other
        role (or one of them once its policy is attached) gets one inline policy per grant."""
        path = role.node.path
        block = next((block for block in self._blocks.values() if block.role.node.path == path), None)
        if block is not None and not block.policy_attached:
            block.grant(*statements)
            return
        # Stable ids: the role's address and the grant; granting the same thing twice fails loudly.
        name = f"grant-{role.node.addr[:12]}-{statements[0].sid}"
        document = grants.policy_document(self, f"{name}-document", statements)
        IamRolePolicy(self, name, role=role.id, name=f"{self._prefix}-{statements[0].sid}", policy=document.json)

    def _materialize_policies(self) -> None:
        for block in self._blocks.values():
            block.attach_policy()

    # ---------------------------------------------------------------------------------------- storage

    def _table(self) -> DynamodbTable:
        props = self.props
        provisioned = props.billing_mode == "PROVISIONED"
        # On-demand tables and indexes take no capacity (None leaves the argument out).
        read_capacity = props.read_capacity if provisioned else None
        write_capacity = props.write_capacity if provisioned else None
        # The indexes hold keys only (readers fetch the records): one write unit per entry instead of the
        # whole record on every transition (the adapter's docstring; python -m bench.capacity).
        indexes = [
            DynamodbTableGlobalSecondaryIndex(
                name=index,
                hash_key=GSI_KEYS[index][0],
                range_key=GSI_KEYS[index][1],
                projection_type=GSI_PROJECTION,
                read_capacity=read_capacity,
                write_capacity=write_capacity,
            )
            for index in GSI_NAMES
        ]
        return DynamodbTable(
            self,
            "table",
            name=f"{self._prefix}-images",
            billing_mode=props.billing_mode,
            hash_key=TABLE_HASH_KEY,
            range_key=TABLE_RANGE_KEY,
            attribute=[DynamodbTableAttribute(name=name, type=kind) for name, kind in ATTRIBUTE_DEFINITIONS],
            global_secondary_index=indexes,
            ttl=DynamodbTableTtl(attribute_name=TTL_ATTRIBUTE, enabled=True),
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=props.point_in_time_recovery),
            # The records are kept with the images they describe: both survive a destroy unless asked.
            deletion_protection_enabled=not props.force_destroy,
            read_capacity=read_capacity,
            write_capacity=write_capacity,
        )

    def _bucket(self) -> S3Bucket:
        props = self.props
        bucket = S3Bucket(self, "bucket", bucket_prefix=f"{self._prefix}-images-", force_destroy=props.force_destroy)
        public_access = S3BucketPublicAccessBlock(
            self,
            "bucket-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        S3BucketOwnershipControls(
            self,
            "bucket-ownership",
            bucket=bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        # SSE-KMS with the AWS managed key aws/s3: no key to pay for, and its key policy lets every
        # principal of the account that may use S3 use it through S3, so no kms:* grant is needed.
        # The bucket key cuts KMS requests (20,000 free a month) to about one per object batch.
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "bucket-encryption",
            bucket=bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm="aws:kms"
                    ),
                    bucket_key_enabled=True,
                )
            ],
        )
        S3BucketVersioningA(
            self,
            "bucket-versioning",
            bucket=bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        S3BucketLifecycleConfiguration(self, "bucket-lifecycle", bucket=bucket.id, rule=self._lifecycle_rules())
        # (sid, condition test, condition key, value): every request that is not TLS 1.2+ is denied.
        transport_rules = (
            ("DenyInsecureTransport", "Bool", "aws:SecureTransport", "false"),
            ("DenyOutdatedTls", "NumericLessThan", "s3:TlsVersion", "1.2"),
        )
        deny_insecure = DataAwsIamPolicyDocument(
            self,
            "bucket-policy-document",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    sid=sid,
                    effect="Deny",
                    actions=["s3:*"],
                    resources=[bucket.arn, f"{bucket.arn}/*"],
                    principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="*", identifiers=["*"])],
                    condition=[DataAwsIamPolicyDocumentStatementCondition(test=test, variable=key, values=[value])],
                )
                for sid, test, key, value in transport_rules
            ],
        )
        # S3 refuses concurrent changes of a bucket's access settings (OperationAborted): one after the other.
        S3BucketPolicy(self, "bucket-policy", bucket=bucket.id, policy=deny_insecure.json, depends_on=[public_access])
        return bucket

    def _lifecycle_rules(self) -> list[S3BucketLifecycleConfigurationRule]:
        props = self.props
        rules = [
            S3BucketLifecycleConfigurationRule(
                id="abort-incomplete-multipart-uploads",
                status="Enabled",
                filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                abort_incomplete_multipart_upload=[
                    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=1)
                ],
            ),
            S3BucketLifecycleConfigurationRule(
                id="expire-noncurrent-versions",
                status="Enabled",
                filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                noncurrent_version_expiration=[
                    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                        noncurrent_days=props.noncurrent_version_expiration_days
                    )
                ],
                expiration=[S3BucketLifecycleConfigurationRuleExpiration(expired_object_delete_marker=True)],
            ),
        ]
        if props.originals != "keep":
            # Only originals the compress step tagged: their compressed rendition is verified
            # (lambdas.domain.originals); an original that stands in for its rendition is never tagged.
            tag_name, tag_value = REPLACEABLE_TAG
            after = props.originals_after_days
            rules.append(
                S3BucketLifecycleConfigurationRule(
                    id=f"originals-{props.originals}",
                    status="Enabled",
                    filter=[
                        S3BucketLifecycleConfigurationRuleFilter(
                            and_=[
                                S3BucketLifecycleConfigurationRuleFilterAnd(
                                    prefix=UPLOADS_PREFIX, tags={tag_name: tag_value}
                                )
                            ]
                        )
                    ],
                    transition=[S3BucketLifecycleConfigurationRuleTransition(days=after, storage_class="GLACIER_IR")]
                    if props.originals == "archive"
                    else None,
                    expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=after)]
                    if props.originals == "expire"
                    else None,
                )
            )
        # Query results are read once by whoever ran the query; refused lines are kept to be looked at.
        for rule_id, prefix, days in (
            ("expire-athena-results", ATHENA_RESULTS_PREFIX, props.athena_results_expiration_days),
            ("expire-rejected-events", REJECTED_PREFIX, props.rejected_events_expiration_days),
        ):
            if days is not None:
                rules.append(
                    S3BucketLifecycleConfigurationRule(
                        id=rule_id,
                        status="Enabled",
                        filter=[S3BucketLifecycleConfigurationRuleFilter(prefix=prefix)],
                        expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=days)],
                    )
                )
        return rules

    def _page_sign_in(self) -> None:
        """With a user pool: the page's app client, and the API function told where the page signs in and
        that the owner is the token's subject (``lambdas.config.Settings.cognito_client_id``)."""
        if self.users is None or self.props.cognito is None:
            return
        client = self.users.add_page_client([self.api.page_url(self.region.name, self.partition.dns_suffix)])
        self._blocks["api"].add_environment(
            {
                Env.COGNITO_LOGIN_URL: self.users.login_base_url,
                Env.COGNITO_CLIENT_ID: client.id,
                Env.COGNITO_API_KEY_REQUIRED: "true" if self.props.cognito.require_api_key else "false",
            }
        )

    def _cors(self) -> None:
        """Browsers may POST presigned uploads from the API's own origin (the web page) and the extra origins."""
        api_origin = f"https://{self.api.rest_api.id}.execute-api.{self.region.name}.{self.partition.dns_suffix}"
        S3BucketCorsConfiguration(
            self,
            "bucket-cors",
            bucket=self.bucket.id,
            cors_rule=[
                S3BucketCorsConfigurationCorsRule(
                    id="presigned-post",
                    allowed_methods=["POST"],
                    allowed_origins=[api_origin, *self.props.cors_allowed_origins],
                    allowed_headers=["*"],
                    expose_headers=["ETag", "Location"],
                    max_age_seconds=3600,
                )
            ],
        )

    # -------------------------------------------------------------------------------------- functions

    def _build_archives(self) -> tuple[Archive, Archive]:
        props = self.props
        requirements = props.layer_requirements or project_requirements(PROJECT_DIR)
        function_archive = build_function_zip(props.lambda_source_dir, props.build_cache_dir / "lambda-function")
        layer_archive = build_layer(LayerSpec(requirements=tuple(requirements)), props.build_cache_dir / "lambda-layer")
        return function_archive, layer_archive

    def _layer(self) -> LambdaLayerVersion:
        asset = TerraformAsset(self, "layer-asset", path=str(self.layer_archive.path), type=AssetType.FILE)
        return LambdaLayerVersion(
            self,
            "layer",
            layer_name=f"{self._prefix}-dependencies",
            description="Runtime dependencies of the image pipeline (Pillow, Powertools, FastAPI, Mangum)",
            filename=asset.path,
            source_code_hash=self.layer_archive.sha256_base64,
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
        )

    def _function(self, name: str) -> FunctionBlock:
        props = self.props
        return FunctionBlock(
            self,
            name,
            props=FunctionBlockProps(
                function_name=f"{self._prefix}-{name}",
                role_name=account_wide_name(self._prefix, name, self.region.name),
                description=_DESCRIPTIONS[name],
                handler=HANDLERS[name],
                code=self.code,
                size=props.function_sizes[name],
                environment=self._environment(name),
                log_retention_days=props.log_retention_days,
            ),
        )

    def _environment(self, name: str) -> dict[str, str]:
        props = self.props
        # The image functions decode full-resolution images: the allocator keeps freed memory for the next
        # decode (props.allocator_env; glibc and Pillow read it at start-up, so it must be set here).
        allocator = dict(props.allocator_env) if name in IMAGE_FUNCTIONS else {}
        # Pages of other origins call the API itself too (lambdas.api.app.create_app answers their CORS).
        cors = (
            {Env.CORS_ORIGINS: ",".join(props.cors_allowed_origins)}
            if name == "api" and props.cors_allowed_origins
            else {}
        )
        return {
            **allocator,
            **cors,
            Env.BUCKET: self.bucket.bucket,
            Env.TABLE: self.table.name,
            Env.DLQ_URL: self.dead_letter_queue.url,
            Env.MAX_PIXELS: str(props.max_pixels),
            Env.MAX_UPLOAD_BYTES: str(props.max_upload_bytes),
            Env.COMPRESSED_FORMAT: props.compressed_format,
            Env.MIN_CONFIDENCE: f"{props.min_confidence:g}",
            Env.MAX_LABELS: str(props.max_labels),
            # The failure of a step's last asynchronous attempt is recorded as parked (lambdas.steps).
            Env.MAX_ATTEMPTS: str(props.max_retry_attempts + 1),
            Env.ORIGINALS: props.originals,
            Env.ORIGINALS_AFTER_DAYS: str(props.originals_after_days),
            "POWERTOOLS_SERVICE_NAME": self._prefix,
            "POWERTOOLS_METRICS_NAMESPACE": props.metrics_namespace,
            "POWERTOOLS_LOG_LEVEL": props.log_level,
        }

    def _grant_pipeline_permissions(self) -> None:
        roles = self.roles
        # compress: original in, compressed rendition out, record updated.
        self.grant_read_uploads(roles["compress"])
        self.grant_write_renditions(roles["compress"])
        # An original that arrives after its image was deleted (a presigned POST outlives a DELETE) is
        # deleted by compress (lambdas.steps.compress), or it would stay in the bucket out of reach.
        self.grant_delete_uploads(roles["compress"])
        if self.props.originals != "keep":
            # It tags an original whose compressed rendition is verified, for the originals lifecycle rule.
            self._grant(roles["compress"], grants.tag_objects(self.bucket.arn, [UPLOADS_PREFIX], sid="TagUploads"))
        # thumbnail: derives from the original or the compressed rendition.
        self.grant_read_uploads(roles["thumbnail"])
        self.grant_read_renditions(roles["thumbnail"])
        self.grant_write_renditions(roles["thumbnail"])
        # The steps that write renditions remove them again when the image was deleted meanwhile
        # (lambdas.steps._purge_renditions lists renditions/<id>/).
        self.grant_purge_renditions(roles["compress"])
        self.grant_purge_renditions(roles["thumbnail"])
        # categorize: sends the analysis preview to Rekognition (the only role that may).
        self.grant_read_renditions(roles["categorize"])
        self._grant(roles["categorize"], grants.detect_labels())
        for name in STEP_FUNCTIONS:
            self.grant_read_write_table(roles[name])
        # api: presigns POST uploads and GET URLs, deletes images; never lists the bucket.
        self.grant_write_uploads(roles["api"])
        self._grant(
            roles["api"],
            grants.read_objects(self.bucket.arn, [UPLOADS_PREFIX, RENDITIONS_PREFIX], sid="ReadImages"),
        )
        self.grant_delete_images(roles["api"])
        self.grant_read_write_table(roles["api"])
        # It retries a failed image by invoking the step that failed (lambdas.adapters.aws.retrier).
        self.grant_invoke(roles["api"], STEP_FUNCTIONS, sid="RetrySteps")
        # redrive: drains the dead-letter queue into the step that failed.
        self._grant(roles["redrive"], grants.consume_queue(self.dead_letter_queue.arn, sid="ConsumeDeadLetterQueue"))
        self.grant_invoke(roles["redrive"], STEP_FUNCTIONS)

    def _name_steps_to_api(self) -> None:
        """The API finds the function of a failed image's step, which it invokes to retry it, by name."""
        self._blocks["api"].add_environment(
            {STEP_FUNCTION_ENV[name]: self.functions[name].function_name for name in STEP_FUNCTION_ENV}
        )

    def _wire_destinations(self) -> None:
        """compress -> thumbnail -> categorize on success; every step -> the dead-letter queue on failure
        (the block grants each role what Lambda sends to its destinations with)."""
        for name, following in zip(STEP_FUNCTIONS, (*STEP_FUNCTIONS[1:], None), strict=True):
            self._blocks[name].invoke_asynchronously(
                retry_attempts=self.props.max_retry_attempts,
                max_event_age_seconds=self.props.max_event_age_seconds,
                dead_letter_queue_arn=self.dead_letter_queue.arn,
                on_success=self._blocks[following] if following is not None else None,
            )

    def _notify_compress_on_upload(self) -> None:
        compress = self.functions["compress"]
        permission = LambdaPermission(
            self,
            "compress-s3-permission",
            statement_id="AllowS3Uploads",
            action="lambda:InvokeFunction",
            function_name=compress.function_name,
            principal="s3.amazonaws.com",
            source_arn=self.bucket.arn,
            source_account=self.caller.account_id,
        )
        S3BucketNotification(
            self,
            "bucket-notification",
            bucket=self.bucket.id,
            lambda_function=[
                S3BucketNotificationLambdaFunction(
                    id="compress-uploads",
                    lambda_function_arn=compress.arn,
                    # The lifecycle rule's removals of originals are recorded by the same function.
                    events=["s3:ObjectCreated:*", "s3:LifecycleExpiration:*"]
                    if self.props.originals == "expire"
                    else ["s3:ObjectCreated:*"],
                    filter_prefix=UPLOADS_PREFIX,
                )
            ],
            depends_on=[permission],
        )


def outputs_of(pipeline: ImagePipeline) -> Mapping[str, str]:
    """Values worth printing after a deploy, by output name (``<thing>_<attr>``)."""
    values = {
        "api_url": pipeline.api.url,
        "api_key_id": pipeline.api.api_key.id,
        "bucket_name": pipeline.bucket.bucket,
        "table_name": pipeline.table.name,
        "dead_letter_queue_url": pipeline.dead_letter_queue.url,
    }
    for name, function in pipeline.functions.items():
        values[f"{name}_function_name"] = function.function_name
    if pipeline.users is not None and pipeline.users.client is not None:
        values["user_pool_id"] = pipeline.users.user_pool.id
        values["user_pool_client_id"] = pipeline.users.client.id
        # The managed login's domain: /oauth2/authorize, /oauth2/token and /logout are below it.
        values["user_pool_login_url"] = pipeline.users.login_base_url
    return values
