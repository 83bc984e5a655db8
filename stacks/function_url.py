"""fnurl stack (target region), the mode any account can deploy: the private bucket, the transform behind a
Lambda function URL (IAM auth), and CloudFront reaching it through Origin Access Control. No Lambda@Edge."""

from troposphere import Equals, GetAtt, If, Output, Parameter, Ref, Select, Split, Sub, Template
from troposphere.awslambda import Environment, Function, Permission, Url
from troposphere.cloudfront import (
    CustomOriginConfig,
    Distribution,
    FunctionAssociation,
    FunctionConfig,
    Origin,
    OriginAccessControl,
    OriginAccessControlConfig,
)
from troposphere.cloudfront import Function as CloudFrontFunction

from stacks import policies
from stacks.bucket import add_bucket_policy, add_private_bucket
from stacks.common import (
    CLOUDFRONT_FUNCTION_CODE_LIMIT_BYTES,
    CLOUDFRONT_SERVICE,
    LAMBDA_WEB_ADAPTER_ACCOUNT,
    ORIGIN_READ_TIMEOUT_SECONDS,
    add_prefix_parameter,
    new_template,
)
from stacks.distribution import add_image_distribution, add_viewer_parameters
from stacks.transform import add_transform_function, add_transform_parameters, transform_settings

# Lambda Web Adapter's release pinned by default (its layer version number, the same in every region).
# Source: the adapter's README (github.com/awslabs/aws-lambda-web-adapter), "Lambda functions packaged as Zip".
DEFAULT_WEB_ADAPTER_LAYER_VERSION = 25
# The port the adapter forwards to, and the one the handler script's server listens on.
WEB_ADAPTER_PORT = "8080"


class ViewerRequestCodeTooLarge(ValueError):
    """The CloudFront Function no longer fits CloudFront's size limit."""


def add_parameters(template: Template) -> None:
    add_prefix_parameter(template)
    add_transform_parameters(template)
    add_viewer_parameters(template)
    template.add_parameter(
        Parameter(
            "StreamingResponses",
            Type="String",
            Default="false",
            AllowedValues=["false", "true"],
            Description="true streams responses through Lambda Web Adapter (images up to 200 MB); "
            "false buffers them (about 4.7 MB of image at most).",
        )
    )
    template.add_parameter(
        Parameter(
            "WebAdapterLayerVersion",
            Type="Number",
            Default=DEFAULT_WEB_ADAPTER_LAYER_VERSION,
            MinValue=1,
            Description="Version of the published Lambda Web Adapter layer (LambdaAdapterLayerArm64) used when "
            "StreamingResponses is true.",
        )
    )
    template.add_condition("Streaming", Equals(Ref("StreamingResponses"), "true"))


def streaming_settings() -> dict:
    """What Lambda Web Adapter needs to run `run.sh`'s HTTP server and stream its responses."""
    return {
        **transform_settings(),
        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
        "AWS_LWA_INVOKE_MODE": "response_stream",
        "AWS_LWA_PORT": WEB_ADAPTER_PORT,
        # A TCP check: an HTTP probe of `/` would be an object request.
        "AWS_LWA_READINESS_CHECK_PROTOCOL": "tcp",
    }


def add_function_with_url(template: Template, bucket) -> tuple[Function, Url]:
    buffered = {**transform_settings(), "BUCKET_NAME": Ref(bucket)}
    streaming = {**streaming_settings(), "BUCKET_NAME": Ref(bucket)}
    function = add_transform_function(
        template,
        lambda log_group_arn: policies.function_url_transform_policy(log_group_arn, GetAtt(bucket, "Arn")),
        # Streaming: the adapter (a layer) runs run.sh, which starts the HTTP server over the same core.
        Handler=If("Streaming", "run.sh", "url_handler.lambda_handler"),
        Environment=Environment(Variables=If("Streaming", streaming, buffered)),
        Layers=If(
            "Streaming",
            [
                Sub(
                    "arn:${AWS::Partition}:lambda:${AWS::Region}:"
                    + LAMBDA_WEB_ADAPTER_ACCOUNT
                    + ":layer:LambdaAdapterLayerArm64:${WebAdapterLayerVersion}"
                )
            ],
            Ref("AWS::NoValue"),
        ),
    )
    url = template.add_resource(
        Url(
            "TransformFunctionUrl",
            TargetFunctionArn=GetAtt(function, "Arn"),
            # Only CloudFront, signing through Origin Access Control, may call the URL.
            AuthType="AWS_IAM",
            InvokeMode=If("Streaming", "RESPONSE_STREAM", "BUFFERED"),
        )
    )
    return function, url


def function_url_origin(url: Url, access_control: OriginAccessControl) -> Origin:
    return Origin(
        Id="function-url",
        # FunctionUrl is `https://<id>.lambda-url.<region>.on.aws/`: the host is its third `/`-part.
        DomainName=Select(2, Split("/", GetAtt(url, "FunctionUrl"))),
        OriginAccessControlId=GetAtt(access_control, "Id"),
        CustomOriginConfig=CustomOriginConfig(
            OriginProtocolPolicy="https-only",
            HTTPSPort=443,
            OriginSSLProtocols=["TLSv1.2"],
            OriginReadTimeout=ORIGIN_READ_TIMEOUT_SECONDS,
        ),
    )


def add_viewer_request_function(template: Template, code: str) -> CloudFrontFunction:
    size = len(code.encode("utf-8"))
    if size > CLOUDFRONT_FUNCTION_CODE_LIMIT_BYTES:
        raise ViewerRequestCodeTooLarge(
            f"the CloudFront Function is {size} bytes; CloudFront accepts {CLOUDFRONT_FUNCTION_CODE_LIMIT_BYTES}"
        )
    return template.add_resource(
        CloudFrontFunction(
            "EncodeUriFunction",
            Name=Sub("${AWS::StackName}-encode-uri"),
            AutoPublish=True,
            FunctionCode=code,
            FunctionConfig=FunctionConfig(
                Comment="Percent-encode the URI in SigV4's canonical form so OAC's signature verifies.",
                Runtime="cloudfront-js-2.0",
            ),
        )
    )


def add_invoke_permissions(template: Template, function: Function, distribution: Distribution) -> None:
    distribution_arn = Sub(
        "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Id}", Id=Ref(distribution)
    )
    function_name = Ref(function)
    template.add_resource(
        Permission(
            "CloudFrontInvokeFunctionUrl",
            Action="lambda:InvokeFunctionUrl",
            FunctionName=function_name,
            FunctionUrlAuthType="AWS_IAM",
            Principal=CLOUDFRONT_SERVICE,
            SourceArn=distribution_arn,
        )
    )
    template.add_resource(
        Permission(
            # Function URLs created since October 2025 also need InvokeFunction, limited to calls through
            # the URL; with only the permission above CloudFront gets 403.
            "CloudFrontInvokeFunctionViaUrl",
            Action="lambda:InvokeFunction",
            FunctionName=function_name,
            InvokedViaFunctionUrl=True,
            Principal=CLOUDFRONT_SERVICE,
            SourceArn=distribution_arn,
        )
    )


def build_function_url(viewer_request_code: str) -> Template:
    template = new_template(
        "Private image bucket and a Lambda function URL behind CloudFront (Origin Access Control) that strips "
        "image metadata on every request. For accounts without S3 Object Lambda."
    )
    add_parameters(template)
    bucket = add_private_bucket(template)
    add_bucket_policy(template, bucket)
    template.add_output(Output("BucketName", Value=Ref(bucket), Description="Upload original images here."))
    function, url = add_function_with_url(template, bucket)
    access_control = template.add_resource(
        OriginAccessControl(
            "FunctionUrlAccessControl",
            OriginAccessControlConfig=OriginAccessControlConfig(
                Name=Sub("${AWS::StackName}-function-url"),
                Description="CloudFront signs every origin request to the function URL.",
                OriginAccessControlOriginType="lambda",
                SigningBehavior="always",
                SigningProtocol="sigv4",
            ),
        )
    )
    encode_uri = add_viewer_request_function(template, viewer_request_code)
    distribution = add_image_distribution(
        template,
        function_url_origin(url, access_control),
        FunctionAssociations=[
            FunctionAssociation(
                EventType="viewer-request", FunctionARN=GetAtt(encode_uri, "FunctionMetadata.FunctionARN")
            )
        ],
    )
    add_invoke_permissions(template, function, distribution)
    template.add_output(Output("FunctionUrl", Value=GetAtt(url, "FunctionUrl"), Description="Reachable only through CloudFront."))
    return template
