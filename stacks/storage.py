"""storage stack (target region): the private bucket, the transform Lambda, the supporting access point
and the S3 Object Lambda access point that runs the transform on every GetObject and HeadObject.

OriginMode says who calls the Object Lambda access point: `olap`, the edge signer's role (this stack writes the
access point's policy); `olap-oac`, CloudFront itself through Origin Access Control (the cdn-oac stack writes
that policy, since it names the distribution)."""

from typing import NamedTuple

from troposphere import Equals, Export, Output, Parameter, Sub, Template
from troposphere.awslambda import Environment, Function
from troposphere.s3 import AccessPoint
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
from stacks.bucket import ImageBucket, add_image_bucket, add_image_bucket_policy, block_all_public_access
from stacks.common import (
    OBJECT_LAMBDA_ALIAS_EXPORT,
    OBJECT_LAMBDA_DOMAIN_EXPORT,
    ORIGIN_MODES,
    TemplateCondition,
    add_condition,
    add_prefix_parameter,
    new_template,
    object_lambda_access_point_name,
    own_export,
    supporting_access_point_name,
)
from stacks.transform import TransformParameters, add_transform_function, add_transform_parameters, transform_settings


class OriginModeConditions(NamedTuple):
    """Who calls the Object Lambda access point: the edge signer's role, or CloudFront through OAC."""

    edge_signer: TemplateCondition
    origin_access_control: TemplateCondition


def add_origin_mode(template: Template) -> OriginModeConditions:
    origin_mode = template.add_parameter(
        Parameter(
            "OriginMode",
            Type="String",
            Default=ORIGIN_MODES[0],
            AllowedValues=list(ORIGIN_MODES),
            Description="olap: CloudFront reaches the Object Lambda access point through the Lambda@Edge signer "
            "(cdn stack); olap-oac: through Origin Access Control (cdn-oac stack, which then owns the "
            "Object Lambda access point's policy).",
        )
    )
    return OriginModeConditions(
        add_condition(template, "EdgeSignerOrigin", Equals(origin_mode.ref(), "olap")),
        add_condition(template, "OriginAccessControlOrigin", Equals(origin_mode.ref(), "olap-oac")),
    )


def add_request_metrics_switch(template: Template) -> TemplateCondition:
    request_metrics = template.add_parameter(
        Parameter(
            "RequestMetrics",
            Type="String",
            Default="true",
            AllowedValues=["true", "false"],
            Description="CloudWatch request metrics on the Object Lambda access point.",
        )
    )
    return add_condition(template, "RequestMetricsEnabled", Equals(request_metrics.ref(), "true"))


def add_transform(template: Template, parameters: TransformParameters) -> Function:
    return add_transform_function(
        template,
        parameters,
        policies.transform_policy,
        Handler="olap.handler.lambda_handler",
        Environment=Environment(Variables=transform_settings(parameters)),
    )


def add_supporting_access_point(
    template: Template, image_bucket: ImageBucket, origin_mode: OriginModeConditions
) -> AccessPoint:
    """The access point S3 Object Lambda reads originals through, and the bucket policy delegating to it; both
    admit the origin mode's caller only. On an existing bucket (ExistingBucketName) the stack writes no bucket
    policy: deploy.sh adds the same statements (policies.existing_bucket_statements) to the bucket's own."""
    supporting_access_point = template.add_resource(
        AccessPoint(
            "SupportingAccessPoint",
            Bucket=image_bucket.name,
            Name=supporting_access_point_name(),
            PublicAccessBlockConfiguration=block_all_public_access(),
            Policy=origin_mode.origin_access_control.choose(
                policies.cloudfront_supporting_access_point_policy(), policies.supporting_access_point_policy()
            ),
        )
    )
    bucket_arn, access_point_arn = image_bucket.created_arn, supporting_access_point.get_att("Arn")
    delegation = policies.delegate_reads_to_access_point(bucket_arn, access_point_arn)
    add_image_bucket_policy(
        template,
        image_bucket,
        origin_mode.origin_access_control.choose(
            policies.bucket_policy(
                bucket_arn, delegation, policies.cloudfront_reads_via_access_point(bucket_arn, access_point_arn)
            ),
            policies.bucket_policy(bucket_arn, delegation),
        ),
    )
    return supporting_access_point


def add_object_lambda_access_point(
    template: Template,
    supporting_access_point: AccessPoint,
    transform_function: Function,
    request_metrics_enabled: TemplateCondition,
    origin_mode: OriginModeConditions,
) -> ObjectLambdaAccessPoint:
    """The Object Lambda access point with its policy in the olap mode, its ARN, and its domain name and alias
    exported for the cdn and cdn-oac stacks."""
    object_lambda_access_point = template.add_resource(
        ObjectLambdaAccessPoint(
            "ObjectLambdaAccessPoint",
            Name=object_lambda_access_point_name(),
            ObjectLambdaConfiguration=ObjectLambdaConfiguration(
                SupportingAccessPoint=supporting_access_point.get_att("Arn"),
                # The transform answers Range itself, after transforming the whole object.
                AllowedFeatures=["GetObject-Range"],
                CloudWatchMetricsEnabled=request_metrics_enabled.choose(True, False),
                TransformationConfigurations=[
                    TransformationConfiguration(
                        Actions=["GetObject", "HeadObject"],
                        ContentTransformation=ContentTransformation(
                            AwsLambda=AwsLambda(FunctionArn=transform_function.get_att("Arn"))
                        ),
                    )
                ],
            ),
        )
    )
    template.add_resource(
        ObjectLambdaAccessPointPolicy(
            "ObjectLambdaAccessPointPolicy",
            # An access point has one policy; in the olap-oac mode the cdn-oac stack writes it.
            Condition=origin_mode.edge_signer.title,
            ObjectLambdaAccessPoint=object_lambda_access_point.ref(),
            # troposphere types this property as a plain dict; JSONrepr gives the awacs document as one.
            PolicyDocument=policies.object_lambda_access_point_policy().JSONrepr(),
        )
    )
    template.add_output(
        Output(
            "ObjectLambdaAccessPointArn",
            Value=object_lambda_access_point.get_att("Arn"),
            Description="The Object Lambda access point CloudFront reads through.",
        )
    )
    template.add_output(
        Output(
            "ObjectLambdaDomainName",
            Value=Sub(
                "${Name}-${AWS::AccountId}.s3-object-lambda.${AWS::Region}.${AWS::URLSuffix}",
                Name=object_lambda_access_point.ref(),
            ),
            Description="HTTPS domain of the Object Lambda access point: the distribution's origin.",
            Export=Export(own_export(OBJECT_LAMBDA_DOMAIN_EXPORT)),
        )
    )
    template.add_output(
        Output(
            "ObjectLambdaAlias",
            Value=object_lambda_access_point.get_att("Alias.Value"),
            Description="Alias of the Object Lambda access point: the olap-oac distribution's S3 origin.",
            Export=Export(own_export(OBJECT_LAMBDA_ALIAS_EXPORT)),
        )
    )
    return object_lambda_access_point


def build_storage() -> Template:
    template = new_template(
        "Private image bucket and the S3 Object Lambda access point that strips image metadata on every GetObject."
    )
    add_prefix_parameter(template)
    origin_mode = add_origin_mode(template)
    transform_parameters = add_transform_parameters(template)
    request_metrics_enabled = add_request_metrics_switch(template)
    image_bucket = add_image_bucket(template)
    transform_function = add_transform(template, transform_parameters)
    supporting_access_point = add_supporting_access_point(template, image_bucket, origin_mode)
    add_object_lambda_access_point(
        template, supporting_access_point, transform_function, request_metrics_enabled, origin_mode
    )
    return template
