"""cdn-oac stack (target region), the olap-oac mode: the CloudFront distribution reaching the Object Lambda access
point directly through Origin Access Control, with no Lambda@Edge, and the two resource policies that name
the distribution (the Object Lambda access point's policy and the transform's permission for CloudFront)."""

from troposphere import ImportValue, Sub, Template
from troposphere.awslambda import Permission
from troposphere.cloudfront import Distribution, Origin, OriginAccessControl, OriginAccessControlConfig, S3OriginConfig
from troposphere.s3objectlambda import AccessPointPolicy as ObjectLambdaAccessPointPolicy

from stacks import policies
from stacks.cdn import add_show_exif_query_function
from stacks.common import (
    CLOUDFRONT_SERVICE,
    OBJECT_LAMBDA_ALIAS_EXPORT,
    OBJECT_LAMBDA_ORIGIN_ACCESS_CONTROL_TYPE,
    ORIGIN_READ_TIMEOUT_SECONDS,
    add_prefix_parameter,
    new_template,
    object_lambda_access_point_name,
    storage_export,
    transform_function_arn,
)
from stacks.distribution import add_image_distribution, add_viewer_parameters, distribution_arn


def add_object_lambda_access_control(template: Template) -> OriginAccessControl:
    return template.add_resource(
        OriginAccessControl(
            "ObjectLambdaAccessControl",
            OriginAccessControlConfig=OriginAccessControlConfig(
                Name=Sub("${AWS::StackName}-object-lambda"),
                Description="CloudFront signs every origin request to the Object Lambda access point.",
                OriginAccessControlOriginType=OBJECT_LAMBDA_ORIGIN_ACCESS_CONTROL_TYPE,
                SigningBehavior="always",
                SigningProtocol="sigv4",
            ),
        )
    )


def object_lambda_alias_origin(access_control: OriginAccessControl) -> Origin:
    return Origin(
        Id="object-lambda",
        # `<alias>.s3.<region>.amazonaws.com`; the storage stack's name follows from Prefix, so its export can be
        # named without a parameter.
        DomainName=Sub(
            "${Alias}.s3.${AWS::Region}.${AWS::URLSuffix}",
            Alias=ImportValue(storage_export(OBJECT_LAMBDA_ALIAS_EXPORT)),
        ),
        OriginAccessControlId=access_control.get_att("Id"),
        # An S3 origin, with the identity left empty for OAC: CloudFront refuses a custom origin here ("The
        # origin type and OAC origin type differ").
        S3OriginConfig=S3OriginConfig(
            OriginAccessIdentity="",
            # The transform may take up to S3 Object Lambda's 60 s on a large image.
            OriginReadTimeout=ORIGIN_READ_TIMEOUT_SECONDS,
        ),
    )


def add_object_lambda_access_point_policy(template: Template, distribution: Distribution) -> ObjectLambdaAccessPointPolicy:
    """The Object Lambda access point's one policy, owned here in this mode because it names the distribution
    (the storage stack writes none when OriginMode is olap-oac)."""
    return template.add_resource(
        ObjectLambdaAccessPointPolicy(
            "ObjectLambdaAccessPointPolicy",
            ObjectLambdaAccessPoint=object_lambda_access_point_name(),
            # troposphere types this property as a plain dict; JSONrepr gives the awacs document as one.
            PolicyDocument=policies.cloudfront_object_lambda_access_point_policy(distribution_arn(distribution)).JSONrepr(),
        )
    )


def add_transform_invoke_permission(template: Template, distribution: Distribution) -> Permission:
    return template.add_resource(
        Permission(
            # S3 Object Lambda invokes the transform with its caller's authority, here CloudFront's; only this
            # distribution's requests may lead to an invocation.
            "CloudFrontInvokesTransform",
            Action="lambda:InvokeFunction",
            FunctionName=transform_function_arn(),
            Principal=CLOUDFRONT_SERVICE,
            SourceArn=distribution_arn(distribution),
        )
    )


def build_cdn_oac(viewer_request_code: str) -> Template:
    """`viewer_request_code`: show_exif_query.js and query_only.js, as generate.py joins them."""
    template = new_template(
        "CloudFront distribution serving metadata-stripped images from the S3 Object Lambda access point through "
        "Origin Access Control (no Lambda@Edge). Needs the storage stack with OriginMode=olap-oac."
    )
    add_prefix_parameter(template)
    viewer = add_viewer_parameters(template)
    access_control = add_object_lambda_access_control(template)
    show_exif_query_function = add_show_exif_query_function(template, viewer_request_code)
    distribution = add_image_distribution(
        template, viewer, object_lambda_alias_origin(access_control), show_exif_query_function
    )
    add_object_lambda_access_point_policy(template, distribution)
    add_transform_invoke_permission(template, distribution)
    return template
