"""storage stack (target region): the private bucket, the transform Lambda, the supporting access point
and the S3 Object Lambda access point that runs the transform on every GetObject and HeadObject."""

from troposphere import Equals, Export, Output, Parameter, Sub, Template
from troposphere.awslambda import Environment, Function
from troposphere.s3 import AccessPoint, Bucket
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
from stacks.bucket import add_image_bucket, add_image_bucket_policy, block_all_public_access
from stacks.common import (
    OBJECT_LAMBDA_DOMAIN_EXPORT,
    TemplateCondition,
    add_condition,
    add_prefix_parameter,
    new_template,
    object_lambda_access_point_name,
    supporting_access_point_name,
)
from stacks.transform import TransformParameters, add_transform_function, add_transform_parameters, transform_settings


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


def add_supporting_access_point(template: Template, image_bucket: Bucket) -> AccessPoint:
    """The access point S3 Object Lambda reads originals through, and the bucket policy delegating to it."""
    supporting_access_point = template.add_resource(
        AccessPoint(
            "SupportingAccessPoint",
            Bucket=image_bucket.ref(),
            Name=supporting_access_point_name(),
            PublicAccessBlockConfiguration=block_all_public_access(),
            Policy=policies.supporting_access_point_policy(),
        )
    )
    add_image_bucket_policy(
        template,
        image_bucket,
        policies.delegate_reads_to_access_point(
            image_bucket.get_att("Arn"), supporting_access_point.get_att("Arn")
        ),
    )
    return supporting_access_point


def add_object_lambda_access_point(
    template: Template,
    supporting_access_point: AccessPoint,
    transform_function: Function,
    request_metrics_enabled: TemplateCondition,
) -> ObjectLambdaAccessPoint:
    """The Object Lambda access point with its policy, its ARN and its exported domain name."""
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
            Export=Export(Sub("${AWS::StackName}-" + OBJECT_LAMBDA_DOMAIN_EXPORT)),
        )
    )
    return object_lambda_access_point


def build_storage() -> Template:
    template = new_template(
        "Private image bucket and the S3 Object Lambda access point that strips image metadata on every GetObject."
    )
    add_prefix_parameter(template)
    transform_parameters = add_transform_parameters(template)
    request_metrics_enabled = add_request_metrics_switch(template)
    image_bucket = add_image_bucket(template)
    transform_function = add_transform(template, transform_parameters)
    supporting_access_point = add_supporting_access_point(template, image_bucket)
    add_object_lambda_access_point(template, supporting_access_point, transform_function, request_metrics_enabled)
    return template
