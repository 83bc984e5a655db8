"""cdn stack (target region): the CloudFront distribution in front of the Object Lambda access point,
caching one copy per answer, with the edge signer on every origin request."""

from troposphere import ImportValue, Parameter, Template
from troposphere.cloudfront import CustomOriginConfig, LambdaFunctionAssociation, Origin
from troposphere.cloudfront import Function as CloudFrontFunction

from stacks.common import (
    EDGE_REGION,
    OBJECT_LAMBDA_DOMAIN_EXPORT,
    ORIGIN_READ_TIMEOUT_SECONDS,
    add_prefix_parameter,
    new_template,
    storage_export,
)
from stacks.distribution import add_image_distribution, add_viewer_parameters, add_viewer_request_function


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


def add_show_exif_query_function(template: Template, code: str) -> CloudFrontFunction:
    """The S3 Object Lambda modes' viewer-request function (cdn and cdn-oac stacks): the query only."""
    return add_viewer_request_function(
        template,
        "ShowExifQueryFunction",
        "show-exif-query",
        code,
        "Rewrite the query to showExif=true or nothing: one cache entry per object and answer.",
    )


def build_cdn(viewer_request_code: str) -> Template:
    """`viewer_request_code`: show_exif_query.js and query_only.js, as generate.py joins them."""
    template = new_template(
        "CloudFront distribution serving metadata-stripped images from the S3 Object Lambda access point."
    )
    add_prefix_parameter(template)
    edge_function_version_arn = add_edge_version_parameter(template)
    viewer = add_viewer_parameters(template)
    show_exif_query_function = add_show_exif_query_function(template, viewer_request_code)
    add_image_distribution(
        template,
        viewer,
        object_lambda_origin(),
        show_exif_query_function,
        LambdaFunctionAssociations=[edge_signer_association(edge_function_version_arn)],
    )
    return template
