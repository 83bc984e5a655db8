"""cdn stack (target region): the CloudFront distribution in front of the Object Lambda access point,
caching one copy per `showExif` value, with the edge signer on every origin request."""

from troposphere import ImportValue, Parameter, Template
from troposphere.cloudfront import CustomOriginConfig, LambdaFunctionAssociation, Origin

from stacks.common import (
    EDGE_REGION,
    OBJECT_LAMBDA_DOMAIN_EXPORT,
    ORIGIN_READ_TIMEOUT_SECONDS,
    add_prefix_parameter,
    new_template,
    storage_export,
)
from stacks.distribution import add_image_distribution, add_viewer_parameters


def add_edge_version_parameter(template: Template) -> Parameter:
    return template.add_parameter(
        Parameter(
            "EdgeFunctionVersionArn",
            Type="String",
            # CloudFront needs a numbered version of a us-east-1 function (not $LATEST, not an alias).
            AllowedPattern=r"^arn:aws[a-z-]*:lambda:" + EDGE_REGION + r":\d{12}:function:[A-Za-z0-9_-]+:\d+$",
            ConstraintDescription="a numbered version ARN of a Lambda function in " + EDGE_REGION,
            Description="The edge signer's version ARN (deploy.sh reads it from SSM in " + EDGE_REGION + ").",
        )
    )


def object_lambda_origin() -> Origin:
    return Origin(
        Id="object-lambda",
        # The storage stack's name follows from Prefix, so its export can be named without a parameter.
        DomainName=ImportValue(storage_export(OBJECT_LAMBDA_DOMAIN_EXPORT)),
        CustomOriginConfig=CustomOriginConfig(
            OriginProtocolPolicy="https-only",
            HTTPSPort=443,
            OriginSSLProtocols=["TLSv1.2"],
            # The transform may take up to S3 Object Lambda's 60 s on a large image.
            OriginReadTimeout=ORIGIN_READ_TIMEOUT_SECONDS,
        ),
    )


def edge_signer_association(edge_function_version_arn: Parameter) -> LambdaFunctionAssociation:
    return LambdaFunctionAssociation(
        EventType="origin-request",
        LambdaFunctionARN=edge_function_version_arn.ref(),
        IncludeBody=False,
    )


def build_cdn() -> Template:
    template = new_template(
        "CloudFront distribution serving metadata-stripped images from the S3 Object Lambda access point."
    )
    add_prefix_parameter(template)
    edge_function_version_arn = add_edge_version_parameter(template)
    viewer = add_viewer_parameters(template)
    add_image_distribution(
        template,
        viewer,
        object_lambda_origin(),
        LambdaFunctionAssociations=[edge_signer_association(edge_function_version_arn)],
    )
    return template
