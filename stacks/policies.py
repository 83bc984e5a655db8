"""Every IAM document of the project, as pure functions returning awacs objects.

Each statement says why it exists. No statement allows a wildcard action; resources are named ARNs.
"""

import json

from awacs import awslambda, logs, s3, s3_object_lambda, sts
from awacs.aws import (
    Allow,
    ArnEquals,
    Bool,
    Condition,
    Deny,
    ForAnyValueStringEquals,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from awacs.helpers.trust import make_simple_assume_policy
from troposphere import AccountId, Sub

from stacks.common import (
    BATCH_OPERATIONS_SERVICE,
    CLOUDFRONT_SERVICE,
    EDGE_FUNCTION_SUFFIX,
    EDGE_LAMBDA_SERVICE,
    EDGE_REGION,
    LAMBDA_SERVICE,
    OBJECT_LAMBDA_SERVICE,
    SUPPORTING_ACCESS_POINT_SUFFIX,
    account_root_arn,
    edge_role_arn,
    object_lambda_access_point_arn,
    supporting_access_point_arn,
    supporting_access_point_objects_arn,
    transform_function_arn,
)

VERSION = "2012-10-17"

# aws:CalledVia lists every service that made a request on the principal's behalf, so it is multivalued
# and needs a ForAnyValue operator. Source: IAM User Guide, reference_policies_condition-keys.html.
CALLED_VIA_OBJECT_LAMBDA = ForAnyValueStringEquals("aws:CalledVia", [OBJECT_LAMBDA_SERVICE])

# Resource policies name the edge role through aws:PrincipalArn rather than as Principal, because AWS
# rejects a policy whose principal does not exist yet, and the two stacks deploy in either order.
ONLY_THE_EDGE_ROLE = ArnEquals("aws:PrincipalArn", edge_role_arn())

# In the olap-oac mode CloudFront itself (its service principal, signing with Origin Access Control) is the
# caller. Where the distribution's ARN cannot be named (the storage stack deploys before the distribution
# exists), the service principal is held to calls made for this account's own resources.
CLOUDFRONT = Principal("Service", [CLOUDFRONT_SERVICE])
FOR_THIS_ACCOUNT = StringEquals("aws:SourceAccount", AccountId)


def objects_of(bucket_arn: object) -> object:
    """Every object of the bucket; a plain ARN (a policy put through the API) stays a plain string."""
    if isinstance(bucket_arn, str):
        return f"{bucket_arn}/*"
    return Sub("${Bucket}/*", Bucket=bucket_arn)


def lambda_trust() -> PolicyDocument:
    # The transform runs as an ordinary regional Lambda function.
    return make_simple_assume_policy(LAMBDA_SERVICE)


def edge_lambda_trust() -> PolicyDocument:
    # Lambda@Edge replicas assume the role through edgelambda; lambda is needed to create the function.
    return make_simple_assume_policy(LAMBDA_SERVICE, EDGE_LAMBDA_SERVICE)


def write_own_logs(log_group_arn: object) -> Statement:
    return Statement(
        # The function's own log group (created by the stack, so no CreateLogGroup).
        Sid="WriteOwnLogs",
        Effect=Allow,
        Action=[logs.CreateLogStream, logs.PutLogEvents],
        Resource=[log_group_arn],
    )


def transform_policy(log_group_arn: object) -> PolicyDocument:
    return PolicyDocument(
        Version=VERSION,
        Statement=[
            write_own_logs(log_group_arn),
            Statement(
                # Every answer, errors included, goes back through WriteGetObjectResponse on this access point.
                Sid="AnswerObjectLambdaRequests",
                Effect=Allow,
                Action=[s3_object_lambda.WriteGetObjectResponse],
                Resource=[object_lambda_access_point_arn()],
            ),
            Statement(
                # A HEAD event's presigned URL allows HeadObject only, yet HEAD must report the stripped
                # Content-Length, which needs the bytes. After the caller's own HEAD has succeeded, the
                # function reads the object itself, through the supporting access point only, pinned
                # with If-Match to the ETag the caller was shown. GET never uses this.
                Sid="ReadOriginalsToAnswerHead",
                Effect=Allow,
                Action=[s3.GetObject],
                Resource=[supporting_access_point_objects_arn()],
            ),
        ],
    )


def function_url_transform_policy(log_group_arn: object, bucket_arn: object) -> PolicyDocument:
    return PolicyDocument(
        Version=VERSION,
        Statement=[
            write_own_logs(log_group_arn),
            Statement(
                # Behind a function URL there is no presigned URL: the function reads originals itself,
                # from this bucket only, and never lists or writes.
                Sid="ReadOriginals",
                Effect=Allow,
                Action=[s3.GetObject],
                Resource=[objects_of(bucket_arn)],
            ),
            Statement(
                # Without it S3 answers 403 for a missing key and viewers would get 403 for every typo;
                # the function never lists.
                Sid="TellMissingFromForbidden",
                Effect=Allow,
                Action=[s3.ListBucket],
                Resource=[bucket_arn],
            ),
        ],
    )


def edge_signer_policy(target_region: object) -> PolicyDocument:
    edge_log_groups = [
        # Lambda@Edge writes to `/aws/lambda/us-east-1.<function>` in whichever region served the request,
        # so the region part has to be open; the log group name pins the function.
        Sub(
            "arn:${AWS::Partition}:logs:*:${AWS::AccountId}:log-group:/aws/lambda/"
            + EDGE_REGION
            + ".${Prefix}"
            + EDGE_FUNCTION_SUFFIX
            + ":*"
        ),
        # Test invocations in us-east-1 itself write to the ordinary log group.
        Sub(
            "arn:${AWS::Partition}:logs:"
            + EDGE_REGION
            + ":${AWS::AccountId}:log-group:/aws/lambda/${Prefix}"
            + EDGE_FUNCTION_SUFFIX
            + ":*"
        ),
    ]
    return PolicyDocument(
        Version=VERSION,
        Statement=[
            Statement(
                # Edge log groups appear on first use in each region; the stack cannot create them ahead.
                Sid="WriteEdgeLogs",
                Effect=Allow,
                Action=[logs.CreateLogGroup, logs.CreateLogStream, logs.PutLogEvents],
                Resource=edge_log_groups,
            ),
            Statement(
                # The signed origin request is a GetObject (or HEAD) on the Object Lambda access point.
                Sid="ReadThroughObjectLambda",
                Effect=Allow,
                Action=[s3_object_lambda.GetObject],
                Resource=[object_lambda_access_point_arn(target_region)],
            ),
            Statement(
                # S3 Object Lambda invokes the transform with the caller's credentials, and only it may.
                Sid="InvokeTransformViaObjectLambda",
                Effect=Allow,
                Action=[awslambda.InvokeFunction],
                Resource=[transform_function_arn(target_region)],
                Condition=Condition(CALLED_VIA_OBJECT_LAMBDA),
            ),
            Statement(
                # The transform's presigned URL reads the original as the caller, through the supporting
                # access point, and only when S3 Object Lambda makes that call.
                Sid="ReadOriginalsViaObjectLambda",
                Effect=Allow,
                Action=[s3.GetObject],
                Resource=[supporting_access_point_objects_arn(target_region)],
                Condition=Condition(CALLED_VIA_OBJECT_LAMBDA),
            ),
            Statement(
                # Without list permission S3 answers 403 for a missing key, and viewers would get 403 for
                # every typo. The edge role cannot list anything itself: it has no s3-object-lambda:ListBucket,
                # and this applies only inside an S3 Object Lambda request.
                Sid="TellMissingFromForbiddenViaObjectLambda",
                Effect=Allow,
                Action=[s3.ListBucket],
                Resource=[supporting_access_point_arn(target_region)],
                Condition=Condition(CALLED_VIA_OBJECT_LAMBDA),
            ),
        ],
    )


def deny_insecure_transport(bucket_arn: object) -> Statement:
    return Statement(
        # Refuse plain HTTP for every caller and every S3 action; a Deny cannot grant anything,
        # and naming the service's whole action set is the documented way to say "all requests".
        Sid="DenyInsecureTransport",
        Effect=Deny,
        Principal=Principal("*"),
        Action=[s3.Action("*")],
        Resource=[bucket_arn, objects_of(bucket_arn)],
        Condition=Condition(Bool("aws:SecureTransport", "false")),
    )


def bucket_policy(bucket_arn: object, *statements: Statement) -> PolicyDocument:
    """TLS only, plus whatever read access the origin mode needs."""
    return PolicyDocument(Version=VERSION, Statement=[deny_insecure_transport(bucket_arn), *statements])


def delegate_reads_to_access_point(
    bucket_arn: object, access_point_arn: object, account_root: object = None
) -> Statement:
    """`account_root`: the account's root ARN (default: this stack's, as an expression)."""
    return Statement(
        # Reads are decided by the supporting access point's policy; the bucket only delegates to it.
        Sid="DelegateReadsToSupportingAccessPoint",
        Effect=Allow,
        Principal=Principal("AWS", [account_root if account_root is not None else account_root_arn()]),
        # ListBucket lets S3 answer 404 rather than 403 for a missing key.
        Action=[s3.GetObject, s3.ListBucket],
        Resource=[bucket_arn, objects_of(bucket_arn)],
        Condition=Condition(ArnEquals("s3:DataAccessPointArn", access_point_arn)),
    )


def cloudfront_reads_via_access_point(
    bucket_arn: object, access_point_arn: object, account: object = None
) -> Statement:
    """`account`: the account ID (default: this stack's, as an expression)."""
    for_this_account = FOR_THIS_ACCOUNT if account is None else StringEquals("aws:SourceAccount", account)
    return Statement(
        # The delegation above names the account's IAM principals; in the olap-oac mode the caller S3 Object
        # Lambda acts for is CloudFront's service principal, so the bucket admits it too, on the same terms
        # as the supporting access point's policy: through that access point, inside an S3 Object Lambda
        # request, for this account.
        Sid="DelegateCloudFrontReadsToSupportingAccessPoint",
        Effect=Allow,
        Principal=CLOUDFRONT,
        Action=[s3.GetObject, s3.ListBucket],
        Resource=[bucket_arn, objects_of(bucket_arn)],
        Condition=Condition(
            [ArnEquals("s3:DataAccessPointArn", access_point_arn), CALLED_VIA_OBJECT_LAMBDA, for_this_account]
        ),
    )


def existing_bucket_statements(
    origin_mode: str, *, partition: str, account: str, region: str, prefix: str, bucket: str
) -> list[Statement]:
    """The statements a bucket the user already has (deploy.sh --bucket) needs in its policy for the mode, with
    every name resolved: the same statements the storage stack writes into the policy of a bucket it creates,
    without the TLS-only denial (a hardening the user's own policy may or may not have; nothing needs it).
    origin_mode: "olap", "olap-oac", or "" for the function-URL mode, whose function reads the bucket through
    its own role's policy (same account), so its bucket policy needs nothing."""
    if not origin_mode:
        return []
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    access_point_arn = f"arn:{partition}:s3:{region}:{account}:accesspoint/{prefix}{SUPPORTING_ACCESS_POINT_SUFFIX}"
    statements = [
        delegate_reads_to_access_point(bucket_arn, access_point_arn, f"arn:{partition}:iam::{account}:root")
    ]
    if origin_mode == "olap-oac":
        statements.append(cloudfront_reads_via_access_point(bucket_arn, access_point_arn, account))
    return statements


def _supporting_access_point_policy(reader: str, principal: Principal, conditions: list) -> PolicyDocument:
    """Originals readable through the supporting access point by one reader, only inside an S3 Object Lambda
    request, so nobody can fetch an unstripped image through this access point directly."""
    return PolicyDocument(
        Version=VERSION,
        Statement=[
            Statement(
                # The transform's presigned URL reads the original as the caller of the Object Lambda access point.
                Sid=f"{reader}ReadsViaObjectLambda",
                Effect=Allow,
                Principal=principal,
                Action=[s3.GetObject],
                Resource=[supporting_access_point_objects_arn()],
                Condition=Condition(conditions),
            ),
            Statement(
                # Lets S3 answer 404 rather than 403 for a missing key, under the same conditions.
                Sid=f"{reader}TellsMissingFromForbiddenViaObjectLambda",
                Effect=Allow,
                Principal=principal,
                Action=[s3.ListBucket],
                Resource=[supporting_access_point_arn()],
                Condition=Condition(conditions),
            ),
        ],
    )


def supporting_access_point_policy() -> PolicyDocument:
    """The olap mode's: the edge signer's role is the caller."""
    return _supporting_access_point_policy(
        "EdgeRole", Principal("AWS", [account_root_arn()]), [ONLY_THE_EDGE_ROLE, CALLED_VIA_OBJECT_LAMBDA]
    )


def cloudfront_supporting_access_point_policy() -> PolicyDocument:
    """The olap-oac mode's: CloudFront is the caller, for this account's distributions only, so CloudFront
    cannot fetch an unstripped original through this access point for anybody else's."""
    return _supporting_access_point_policy("CloudFront", CLOUDFRONT, [CALLED_VIA_OBJECT_LAMBDA, FOR_THIS_ACCOUNT])


def cloudfront_object_lambda_access_point_policy(distribution_arn: object) -> PolicyDocument:
    """The olap-oac mode's Object Lambda access point policy (owned by the cdn-oac stack, which knows the
    distribution's ARN)."""
    return PolicyDocument(
        Version=VERSION,
        Statement=[
            Statement(
                # Only this distribution, signing with Origin Access Control, may request transformed objects.
                # GetObject covers GET and HEAD (S3 authorises HeadObject as s3:GetObject); a 404 needs no
                # s3-object-lambda:ListBucket here, only s3:ListBucket on the supporting access point, which
                # its policy grants inside S3 Object Lambda requests.
                Sid="DistributionGetsTransformedObjects",
                Effect=Allow,
                Principal=CLOUDFRONT,
                Action=[s3_object_lambda.GetObject],
                Resource=[object_lambda_access_point_arn()],
                Condition=Condition(StringEquals("aws:SourceArn", distribution_arn)),
            ),
        ],
    )


def object_lambda_access_point_policy() -> PolicyDocument:
    return PolicyDocument(
        Version=VERSION,
        Statement=[
            Statement(
                # Only the edge signer (CloudFront's origin identity) may request transformed objects.
                Sid="EdgeRoleGetsTransformedObjects",
                Effect=Allow,
                Principal=Principal("AWS", [account_root_arn()]),
                Action=[s3_object_lambda.GetObject],
                Resource=[object_lambda_access_point_arn()],
                Condition=Condition(ONLY_THE_EDGE_ROLE),
            ),
        ],
    )


def artifact_bucket_policy(bucket_arn: str) -> PolicyDocument:
    """deploy.sh's artifact bucket (put through the S3 API, not a template): TLS only, and nothing granted;
    the deploying account reaches it through its own IAM permissions."""
    return bucket_policy(bucket_arn)


def plain(statement: Statement) -> dict:
    """A statement as the JSON object a policy put through the API holds."""
    return json.loads(statement.to_json())


# --- the bucket audit (templates/audit.json) ---------------------------------------------------------


def batch_operations_trust() -> PolicyDocument:
    """S3 Batch Operations assumes the job's role, for this account's jobs only: aws:SourceAccount is the
    confused-deputy guard IAM documents for service principals. (AWS's page on Batch Operations roles shows
    no condition and names no aws:SourceArn for jobs, so none is required here: a key the service does not
    send would make the role impossible to assume.)"""
    return PolicyDocument(
        Version=VERSION,
        Statement=[
            Statement(
                Effect=Allow,
                Principal=Principal("Service", [BATCH_OPERATIONS_SERVICE]),
                Action=[sts.AssumeRole],
                Condition=Condition(FOR_THIS_ACCOUNT),
            )
        ],
    )


def audit_function_policy(log_group_arn: object, audited_bucket_arn: object, audited_objects_arn: object) -> PolicyDocument:
    return PolicyDocument(
        Version=VERSION,
        Statement=[
            write_own_logs(log_group_arn),
            Statement(
                # Each task reads one object, or one version of it, under the audited prefix only; never writes.
                Sid="ReadAuditedObjects",
                Effect=Allow,
                Action=[s3.GetObject, s3.GetObjectVersion],
                Resource=[audited_objects_arn],
            ),
            Statement(
                # Without it S3 answers 403 for an object deleted since the manifest was written, and the
                # report would call it access denied. It shows names only, of the bucket being audited.
                Sid="TellMissingFromForbidden",
                Effect=Allow,
                Action=[s3.ListBucket],
                Resource=[audited_bucket_arn],
            ),
        ],
    )


def batch_job_policy(
    function_arn: object,
    artifact_bucket_arn: object,
    manifest_objects_arn: object,
    report_objects_arn: object,
    inventory_objects_arn: object,
) -> PolicyDocument:
    return PolicyDocument(
        Version=VERSION,
        Statement=[
            Statement(
                # The job's one operation: invoke the audit function, and no other.
                Sid="InvokeAuditFunction",
                Effect=Allow,
                Action=[awslambda.InvokeFunction],
                Resource=[function_arn],
            ),
            Statement(
                # The manifest the command writes (its ETag pins the version), or an S3 Inventory report's
                # manifest and CSV files when the user names one.
                Sid="ReadManifest",
                Effect=Allow,
                Action=[s3.GetObject, s3.GetObjectVersion],
                Resource=[manifest_objects_arn, inventory_objects_arn],
            ),
            Statement(
                # The completion report lands under the report prefix of the artifact bucket, nowhere else.
                Sid="WriteCompletionReport",
                Effect=Allow,
                Action=[s3.PutObject],
                Resource=[report_objects_arn],
            ),
            Statement(
                # Batch Operations checks the manifest's and the report's bucket region before it starts.
                Sid="LocateArtifactBucket",
                Effect=Allow,
                Action=[s3.GetBucketLocation],
                Resource=[artifact_bucket_arn],
            ),
        ],
    )
