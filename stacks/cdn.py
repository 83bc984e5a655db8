"""cdn stack (target region): the CloudFront distribution in front of the Object Lambda access point,
caching one copy per `showExif` value, with the edge signer on every origin request."""

from troposphere import ImportValue, Parameter, Ref, Sub, Template
from troposphere.cloudfront import CustomOriginConfig, LambdaFunctionAssociation, Origin

from stacks.common import (
    OBJECT_LAMBDA_DOMAIN_EXPORT,
    ORIGIN_READ_TIMEOUT_SECONDS,
    STACK_SUFFIXES,
    add_prefix_parameter,
    new_template,
)
from stacks.distribution import add_image_distribution, add_viewer_parameters


def object_lambda_origin() -> Origin:
    # The storage stack's name follows from Prefix, so its export can be named without a parameter.
    domain = ImportValue(Sub("${Prefix}" + STACK_SUFFIXES["storage"] + "-" + OBJECT_LAMBDA_DOMAIN_EXPORT))
    return Origin(
        Id="object-lambda",
        DomainName=domain,
        CustomOriginConfig=CustomOriginConfig(
            OriginProtocolPolicy="https-only",
            HTTPSPort=443,
            OriginSSLProtocols=["TLSv1.2"],
            # The transform may take up to S3 Object Lambda's 60 s on a large image.
            OriginReadTimeout=ORIGIN_READ_TIMEOUT_SECONDS,
        ),
    )


def build_cdn() -> Template:
    template = new_template(
        "CloudFront distribution serving metadata-stripped images from the S3 Object Lambda access point."
    )
    add_prefix_parameter(template)
    template.add_parameter(
        Parameter(
            "EdgeFunctionVersionArn",
            Type="String",
            # CloudFront needs a numbered version of a us-east-1 function (not $LATEST, not an alias).
            AllowedPattern=r"^arn:aws[a-z-]*:lambda:us-east-1:\d{12}:function:[A-Za-z0-9_-]+:\d+$",
            ConstraintDescription="a numbered version ARN of a Lambda function in us-east-1",
            Description="The edge signer's version ARN (deploy.sh reads it from SSM in us-east-1).",
        )
    )
    add_viewer_parameters(template)
    add_image_distribution(
        template,
        object_lambda_origin(),
        LambdaFunctionAssociations=[
            LambdaFunctionAssociation(
                EventType="origin-request",
                LambdaFunctionARN=Ref("EdgeFunctionVersionArn"),
                IncludeBody=False,
            )
        ],
    )
    return template
