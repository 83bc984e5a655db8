"""storage stack (target region): the private bucket, the transform Lambda, the supporting access point
and the S3 Object Lambda access point that runs the transform on every GetObject and HeadObject."""

from troposphere import Equals, Export, GetAtt, If, Output, Parameter, Ref, Sub, Template
from troposphere.awslambda import Code, Environment, Function
from troposphere.iam import Policy, Role
from troposphere.logs import LogGroup
from troposphere.s3 import AccessPoint, BucketPolicy
from troposphere.s3objectlambda import AccessPoint as ObjectLambdaAccessPoint
from troposphere.s3objectlambda import (
    AccessPointPolicy as ObjectLambdaAccessPointPolicy,
)
from troposphere.s3objectlambda import (
    AwsLambda,
    ContentTransformation,
    ObjectLambdaConfiguration,
    TransformationConfiguration,
)

from stacks import policies
from stacks.bucket import add_private_bucket, block_all_public_access
from stacks.common import (
    OBJECT_LAMBDA_DOMAIN_EXPORT,
    OBJECT_LAMBDA_TIMEOUT_SECONDS,
    PYTHON_RUNTIME,
    TRANSFORM_FUNCTION_SUFFIX,
    add_prefix_parameter,
    checkov_skips,
    new_template,
    object_lambda_access_point_name,
    supporting_access_point_name,
    transform_function_name,
)

# CloudWatch Logs accepts only these retention periods.
# Source: CloudWatch Logs API Reference, PutRetentionPolicy, retentionInDays.
LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]

DEFAULT_MAX_INPUT_BYTES = 100 * 1024 * 1024


def add_parameters(template: Template) -> None:
    add_prefix_parameter(template)
    template.add_parameter(
        Parameter(
            "ArtifactBucket",
            Type="String",
            MinLength=3,
            MaxLength=63,
            Description="Bucket holding the transform's zip (deploy.sh creates and fills it).",
        )
    )
    template.add_parameter(
        Parameter(
            "ArtifactKey",
            Type="String",
            MinLength=1,
            Description="Key of the transform's zip, named by its content hash so a new build updates the function.",
        )
    )
    template.add_parameter(
        Parameter(
            "TransformMemorySize",
            Type="Number",
            Default=512,
            MinValue=128,
            MaxValue=10240,
            Description="Transform memory in MB (CPU scales with it).",
        )
    )
    template.add_parameter(
        Parameter(
            "TransformTimeout",
            Type="Number",
            Default=OBJECT_LAMBDA_TIMEOUT_SECONDS,
            MinValue=1,
            MaxValue=OBJECT_LAMBDA_TIMEOUT_SECONDS,
            Description="Transform timeout in seconds; S3 Object Lambda allows 60 at most.",
        )
    )
    template.add_parameter(
        Parameter(
            "ExifQuery",
            Type="String",
            Default="full",
            AllowedValues=["full", "no-gps", "off"],
            Description="?showExif=true answers all EXIF (full), EXIF without the GPS group (no-gps), "
            "or is ignored (off).",
        )
    )
    template.add_parameter(
        Parameter(
            "KeepCopyright",
            Type="String",
            Default="false",
            AllowedValues=["false", "true"],
            Description="Keep the EXIF Copyright and Artist tags in stripped images.",
        )
    )
    template.add_parameter(
        Parameter(
            "MaxInputBytes",
            Type="Number",
            Default=DEFAULT_MAX_INPUT_BYTES,
            MinValue=1,
            Description="Originals larger than this are refused with 413.",
        )
    )
    template.add_parameter(
        Parameter(
            "RequestMetrics",
            Type="String",
            Default="true",
            AllowedValues=["true", "false"],
            Description="CloudWatch request metrics on the Object Lambda access point.",
        )
    )
    template.add_parameter(
        Parameter(
            "LogRetentionDays",
            Type="Number",
            Default=30,
            AllowedValues=LOG_RETENTION_DAYS,
            Description="How long the transform's logs are kept.",
        )
    )
    template.add_condition("RequestMetricsEnabled", Equals(Ref("RequestMetrics"), "true"))


def add_transform(template: Template) -> Function:
    log_group = template.add_resource(
        LogGroup(
            "TransformLogGroup",
            LogGroupName=Sub("/aws/lambda/${Prefix}" + TRANSFORM_FUNCTION_SUFFIX),
            # Logs go with the stack; a retained group would also block the name on the next deploy.
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
            RetentionInDays=Ref("LogRetentionDays"),
            Metadata=checkov_skips(
                ("CKV_AWS_158", "Logs hold no image data or EXIF values; the service's default encryption applies."),
            ),
        )
    )
    role = template.add_resource(
        Role(
            "TransformRole",
            AssumeRolePolicyDocument=policies.lambda_trust(),
            Policies=[Policy(PolicyName="transform", PolicyDocument=policies.transform_policy(GetAtt(log_group, "Arn")))],
        )
    )
    function = template.add_resource(
        Function(
            "TransformFunction",
            DependsOn=[log_group],
            FunctionName=transform_function_name(),
            Description="Strips image metadata (or answers EXIF as JSON) for S3 Object Lambda.",
            Runtime=PYTHON_RUNTIME,
            Architectures=["arm64"],
            Handler="handler.lambda_handler",
            MemorySize=Ref("TransformMemorySize"),
            Timeout=Ref("TransformTimeout"),
            Role=GetAtt(role, "Arn"),
            Code=Code(S3Bucket=Ref("ArtifactBucket"), S3Key=Ref("ArtifactKey")),
            Environment=Environment(
                Variables={
                    "EXIF_QUERY": Ref("ExifQuery"),
                    "KEEP_COPYRIGHT": Ref("KeepCopyright"),
                    "MAX_INPUT_BYTES": Ref("MaxInputBytes"),
                    "POWERTOOLS_SERVICE_NAME": "exif-transform",
                }
            ),
            Metadata=checkov_skips(
                ("CKV_AWS_116", "S3 Object Lambda invokes synchronously; a dead-letter queue never receives anything."),
                ("CKV_AWS_117", "The function reads a presigned S3 URL and calls the S3 API; a VPC adds NAT cost and nothing else."),
                ("CKV_AWS_115", "Concurrency follows CloudFront cache misses; a reserved limit would turn bursts into errors."),
                ("CKV_AWS_173", "The environment holds three behaviour switches, no secrets."),
            ),
        )
    )
    template.add_output(Output("TransformFunctionName", Value=Ref(function), Description="The transform Lambda."))
    return function


def add_access_points(template: Template, bucket, function: Function) -> None:
    supporting = template.add_resource(
        AccessPoint(
            "SupportingAccessPoint",
            Bucket=Ref(bucket),
            Name=supporting_access_point_name(),
            PublicAccessBlockConfiguration=block_all_public_access(),
            Policy=policies.supporting_access_point_policy(),
        )
    )
    template.add_resource(
        BucketPolicy(
            "ImageBucketPolicy",
            Bucket=Ref(bucket),
            PolicyDocument=policies.bucket_policy(GetAtt(bucket, "Arn"), GetAtt(supporting, "Arn")),
        )
    )
    object_lambda = template.add_resource(
        ObjectLambdaAccessPoint(
            "ObjectLambdaAccessPoint",
            Name=object_lambda_access_point_name(),
            ObjectLambdaConfiguration=ObjectLambdaConfiguration(
                SupportingAccessPoint=GetAtt(supporting, "Arn"),
                # The transform answers Range itself, after transforming the whole object.
                AllowedFeatures=["GetObject-Range"],
                CloudWatchMetricsEnabled=If("RequestMetricsEnabled", True, False),
                TransformationConfigurations=[
                    TransformationConfiguration(
                        Actions=["GetObject", "HeadObject"],
                        ContentTransformation=ContentTransformation(
                            AwsLambda=AwsLambda(FunctionArn=GetAtt(function, "Arn"))
                        ),
                    )
                ],
            ),
        )
    )
    template.add_resource(
        ObjectLambdaAccessPointPolicy(
            "ObjectLambdaAccessPointPolicy",
            ObjectLambdaAccessPoint=Ref(object_lambda),
            # troposphere types this property as a plain dict; JSONrepr gives the awacs document as one.
            PolicyDocument=policies.object_lambda_access_point_policy().JSONrepr(),
        )
    )
    template.add_output(
        Output(
            "ObjectLambdaAccessPointArn",
            Value=GetAtt(object_lambda, "Arn"),
            Description="The Object Lambda access point CloudFront reads through.",
        )
    )
    template.add_output(
        Output(
            "ObjectLambdaDomainName",
            Value=Sub("${Name}-${AWS::AccountId}.s3-object-lambda.${AWS::Region}.${AWS::URLSuffix}", Name=Ref(object_lambda)),
            Description="HTTPS domain of the Object Lambda access point: the distribution's origin.",
            Export=Export(Sub("${AWS::StackName}-" + OBJECT_LAMBDA_DOMAIN_EXPORT)),
        )
    )


def build_storage() -> Template:
    template = new_template(
        "Private image bucket and the S3 Object Lambda access point that strips image metadata on every GetObject."
    )
    add_parameters(template)
    bucket = add_private_bucket(template)
    template.add_output(Output("BucketName", Value=Ref(bucket), Description="Upload original images here."))
    function = add_transform(template)
    add_access_points(template, bucket, function)
    return template
