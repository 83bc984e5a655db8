"""storage stack (target region): the private bucket, the transform Lambda, the supporting access point
and the S3 Object Lambda access point that runs the transform on every GetObject and HeadObject."""

from troposphere import Equals, Export, GetAtt, If, Output, Parameter, Ref, Sub, Template
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
from stacks.bucket import add_bucket_policy, add_private_bucket, block_all_public_access
from stacks.common import (
    OBJECT_LAMBDA_DOMAIN_EXPORT,
    add_prefix_parameter,
    new_template,
    object_lambda_access_point_name,
    supporting_access_point_name,
)
from stacks.transform import add_transform_function, add_transform_parameters, transform_settings


def add_parameters(template: Template) -> None:
    add_prefix_parameter(template)
    add_transform_parameters(template)
    template.add_parameter(
        Parameter(
            "RequestMetrics",
            Type="String",
            Default="true",
            AllowedValues=["true", "false"],
            Description="CloudWatch request metrics on the Object Lambda access point.",
        )
    )
    template.add_condition("RequestMetricsEnabled", Equals(Ref("RequestMetrics"), "true"))


def add_transform(template: Template) -> Function:
    return add_transform_function(
        template,
        policies.transform_policy,
        Handler="handler.lambda_handler",
        Environment=Environment(Variables=transform_settings()),
    )


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
    add_bucket_policy(
        template, bucket, policies.delegate_reads_to_access_point(GetAtt(bucket, "Arn"), GetAtt(supporting, "Arn"))
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
