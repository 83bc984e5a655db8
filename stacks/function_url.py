"""fnurl stack (target region), the mode any account can deploy: the private bucket, the transform behind a
Lambda function URL (IAM auth), and CloudFront reaching it through Origin Access Control. No Lambda@Edge."""

from typing import NamedTuple

from troposphere import Equals, NoValue, Output, Parameter, Select, Split, Sub, Template
from troposphere.awslambda import Environment, Function, Permission, Url
from troposphere.cloudfront import (
    CustomOriginConfig,
    Distribution,
    Origin,
    OriginAccessControl,
    OriginAccessControlConfig,
)
from troposphere.cloudfront import Function as CloudFrontFunction

from stacks import policies
from stacks.bucket import ImageBucket, add_image_bucket, add_image_bucket_policy
from stacks.common import (
    CLOUDFRONT_SERVICE,
    DEFAULT_WEB_ADAPTER_LAYER_VERSION,
    LAMBDA_WEB_ADAPTER_ACCOUNT,
    ORIGIN_READ_TIMEOUT_SECONDS,
    TemplateCondition,
    add_condition,
    add_prefix_parameter,
    new_template,
)
from stacks.distribution import (
    add_image_distribution,
    add_viewer_parameters,
    add_viewer_request_function,
    distribution_arn,
)
from stacks.transform import TransformParameters, add_transform_function, add_transform_parameters, transform_settings

# The port the adapter forwards to, and the one the handler script's server listens on.
WEB_ADAPTER_PORT = "8080"


class StreamingParameters(NamedTuple):
    """The streaming switch and the adapter layer it brings in."""

    web_adapter_layer_version: Parameter
    streaming: TemplateCondition


def add_streaming_parameters(template: Template) -> StreamingParameters:
    streaming_responses = template.add_parameter(
        Parameter(
            "StreamingResponses",
            Type="String",
            # Streaming by default: buffered, any stripped image over about 4.7 MB gets a 413, and a 12 MP phone
            # JPEG is often 5-8 MB. deploy.sh --buffered chooses false.
            Default="true",
            AllowedValues=["true", "false"],
            Description="true (default) streams responses through Lambda Web Adapter (images up to 200 MB); "
            "false buffers them (about 4.7 MB of image at most, no adapter layer).",
        )
    )
    web_adapter_layer_version = template.add_parameter(
        Parameter(
            "WebAdapterLayerVersion",
            Type="Number",
            Default=DEFAULT_WEB_ADAPTER_LAYER_VERSION,
            MinValue=1,
            Description="Version of the published Lambda Web Adapter layer (LambdaAdapterLayerArm64) used when "
            "StreamingResponses is true.",
        )
    )
    streaming = add_condition(template, "Streaming", Equals(streaming_responses.ref(), "true"))
    return StreamingParameters(web_adapter_layer_version, streaming)


def streaming_settings(parameters: TransformParameters) -> dict:
    """What Lambda Web Adapter needs to run `function_url/run.sh`'s HTTP server and stream its responses."""
    return {
        **transform_settings(parameters),
        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
        "AWS_LWA_INVOKE_MODE": "response_stream",
        "AWS_LWA_PORT": WEB_ADAPTER_PORT,
        # A TCP check: an HTTP probe of `/` would be an object request.
        "AWS_LWA_READINESS_CHECK_PROTOCOL": "tcp",
    }


def web_adapter_layer_arn(web_adapter_layer_version: Parameter) -> Sub:
    return Sub(
        "arn:${AWS::Partition}:lambda:${AWS::Region}:"
        + LAMBDA_WEB_ADAPTER_ACCOUNT
        + ":layer:LambdaAdapterLayerArm64:${"
        + web_adapter_layer_version.title
        + "}"
    )


def add_transform(
    template: Template,
    parameters: TransformParameters,
    image_bucket: ImageBucket,
    streaming: TemplateCondition,
    web_adapter_layer_version: Parameter,
) -> Function:
    buffered_settings = {**transform_settings(parameters), "BUCKET_NAME": image_bucket.name}
    streamed_settings = {**streaming_settings(parameters), "BUCKET_NAME": image_bucket.name}
    return add_transform_function(
        template,
        parameters,
        lambda log_group_arn: policies.function_url_transform_policy(log_group_arn, image_bucket.arn),
        # Streaming: the adapter (a layer) runs run.sh, which starts the HTTP server over the same core.
        Handler=streaming.choose("function_url/run.sh", "function_url.handler.lambda_handler"),
        Environment=Environment(Variables=streaming.choose(streamed_settings, buffered_settings)),
        Layers=streaming.choose([web_adapter_layer_arn(web_adapter_layer_version)], NoValue),
    )


def add_transform_function_url(template: Template, transform_function: Function, streaming: TemplateCondition) -> Url:
    transform_function_url = template.add_resource(
        Url(
            "TransformFunctionUrl",
            TargetFunctionArn=transform_function.get_att("Arn"),
            # Only CloudFront, signing through Origin Access Control, may call the URL.
            AuthType="AWS_IAM",
            InvokeMode=streaming.choose("RESPONSE_STREAM", "BUFFERED"),
        )
    )
    template.add_output(
        Output(
            "FunctionUrl",
            Value=transform_function_url.get_att("FunctionUrl"),
            Description="Reachable only through CloudFront.",
        )
    )
    return transform_function_url


def add_function_url_access_control(template: Template) -> OriginAccessControl:
    return template.add_resource(
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


def add_encode_uri_function(template: Template, code: str) -> CloudFrontFunction:
    return add_viewer_request_function(
        template,
        "EncodeUriFunction",
        "encode-uri",
        code,
        "Percent-encode the URI in SigV4's canonical form so OAC's signature verifies; showExif=true or no query.",
    )


def function_url_origin(transform_function_url: Url, function_url_access_control: OriginAccessControl) -> Origin:
    return Origin(
        Id="function-url",
        # FunctionUrl is `https://<id>.lambda-url.<region>.on.aws/`: the host is its third `/`-part.
        DomainName=Select(2, Split("/", transform_function_url.get_att("FunctionUrl"))),
        OriginAccessControlId=function_url_access_control.get_att("Id"),
        CustomOriginConfig=CustomOriginConfig(
            OriginProtocolPolicy="https-only",
            HTTPSPort=443,
            OriginSSLProtocols=["TLSv1.2"],
            OriginReadTimeout=ORIGIN_READ_TIMEOUT_SECONDS,
        ),
    )


def add_invoke_permissions(template: Template, transform_function: Function, distribution: Distribution) -> None:
    template.add_resource(
        Permission(
            "CloudFrontInvokeFunctionUrl",
            Action="lambda:InvokeFunctionUrl",
            FunctionName=transform_function.ref(),
            FunctionUrlAuthType="AWS_IAM",
            Principal=CLOUDFRONT_SERVICE,
            SourceArn=distribution_arn(distribution),
        )
    )
    template.add_resource(
        Permission(
            # Function URLs created since October 2025 also need InvokeFunction, limited to calls through
            # the URL; with only the permission above CloudFront gets 403.
            "CloudFrontInvokeFunctionViaUrl",
            Action="lambda:InvokeFunction",
            FunctionName=transform_function.ref(),
            InvokedViaFunctionUrl=True,
            Principal=CLOUDFRONT_SERVICE,
            SourceArn=distribution_arn(distribution),
        )
    )


def build_function_url(viewer_request_code: str) -> Template:
    """`viewer_request_code`: show_exif_query.js and encode_uri.js, as generate.py joins them."""
    template = new_template(
        "Private image bucket and a Lambda function URL behind CloudFront (Origin Access Control) that strips "
        "image metadata on every request. For accounts without S3 Object Lambda."
    )
    add_prefix_parameter(template)
    transform_parameters = add_transform_parameters(template)
    viewer = add_viewer_parameters(template)
    web_adapter_layer_version, streaming = add_streaming_parameters(template)
    image_bucket = add_image_bucket(template)
    add_image_bucket_policy(template, image_bucket)
    transform_function = add_transform(
        template, transform_parameters, image_bucket, streaming, web_adapter_layer_version
    )
    transform_function_url = add_transform_function_url(template, transform_function, streaming)
    function_url_access_control = add_function_url_access_control(template)
    encode_uri_function = add_encode_uri_function(template, viewer_request_code)
    distribution = add_image_distribution(
        template,
        viewer,
        function_url_origin(transform_function_url, function_url_access_control),
        encode_uri_function,
    )
    add_invoke_permissions(template, transform_function, distribution)
    return template
