"""What every distribution shares (the cdn, cdn-oac and function-url stacks): viewer-facing parameters, the
viewer-request CloudFront Function, the cache, origin request and response headers policies, and the
distribution around an origin."""

from typing import NamedTuple

from troposphere import And, Equals, If, NoValue, Not, Output, Parameter, Split, Sub, Template
from troposphere.cloudfront import (
    AccessControlAllowHeaders,
    AccessControlAllowMethods,
    AccessControlAllowOrigins,
    CacheCookiesConfig,
    CacheHeadersConfig,
    CachePolicy,
    CachePolicyConfig,
    CacheQueryStringsConfig,
    ContentTypeOptions,
    CorsConfig,
    DefaultCacheBehavior,
    Distribution,
    DistributionConfig,
    FrameOptions,
    FunctionAssociation,
    FunctionConfig,
    Origin,
    OriginRequestCookiesConfig,
    OriginRequestHeadersConfig,
    OriginRequestPolicy,
    OriginRequestPolicyConfig,
    OriginRequestQueryStringsConfig,
    ParametersInCacheKeyAndForwardedToOrigin,
    ReferrerPolicy,
    ResponseHeadersPolicy,
    ResponseHeadersPolicyConfig,
    SecurityHeadersConfig,
    StrictTransportSecurity,
    ViewerCertificate,
)
from troposphere.cloudfront import Function as CloudFrontFunction

from stacks.common import (
    CLOUDFRONT_CERTIFICATE_REGION,
    CLOUDFRONT_FUNCTION_CODE_LIMIT_BYTES,
    DEFAULT_TTL_SECONDS,
    MAX_TTL_SECONDS,
    VIEWER_MINIMUM_TLS,
    TemplateCondition,
    add_condition,
    checkov_skips,
)

# The only request value that changes the answer: ?showExif=true returns EXIF JSON instead of the image.
# The viewer-request function (cloudfront_functions/show_exif_query.js) rewrites every query to exactly
# `showExif=true` or nothing, so the cache key and the origin request below hold one spelling per answer.
SHOW_EXIF_QUERY = "showExif"
# Two years, the value HSTS preload lists ask for.
HSTS_MAX_AGE_SECONDS = 2 * 365 * 24 * 60 * 60

ALLOWED_ORIGINS_PARAMETER = "AllowedOrigins"
# AllowedOrigins: empty (no CORS header, the default), `*`, or origins separated by commas, each
# `scheme://host[:port]` as a browser sends it in the Origin header (lowercase, no path, no trailing slash).
ORIGIN_PATTERN = r"https?://[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?"
ALLOWED_ORIGINS_PATTERN = rf"^$|^\*$|^{ORIGIN_PATTERN}(,{ORIGIN_PATTERN})*$"
# The methods the distribution answers (its cache behaviour's AllowedMethods).
VIEWER_METHODS = ["GET", "HEAD"]
# A browser preflights a cross-origin request only for headers outside the CORS safelist; a script reading the
# JSON sends none. CloudFront requires the list; Range is the one header a script reading an image might add.
CORS_ALLOWED_HEADERS = ["Range"]
# How long a browser may cache a preflight answer: one day, as the distribution caches its answers.
CORS_MAX_AGE_SECONDS = 24 * 60 * 60

DISTRIBUTION_CHECKOV_SKIPS = (
    ("CKV_AWS_68", "A WAF web ACL costs a monthly fee per distribution; attach one when the images warrant it."),
    ("CKV_AWS_86", "Access logs need a log bucket with ACLs; enable standard logging when wanted."),
    (
        "CKV_AWS_174",
        "TLSv1.2_2021 is set whenever a custom domain and certificate are given; CloudFront's default "
        "certificate fixes the minimum at TLSv1.",
    ),
)


class ViewerRequestCodeTooLarge(ValueError):
    """A CloudFront Function no longer fits CloudFront's size limit."""


class ViewerParameters(NamedTuple):
    """The viewer-facing parameters, each field named for its parameter, and the condition they make."""

    price_class: Parameter
    alternate_domain_name: Parameter
    acm_certificate_arn: Parameter
    has_custom_domain: TemplateCondition
    allowed_origins: Parameter
    has_allowed_origins: TemplateCondition


def add_viewer_parameters(template: Template) -> ViewerParameters:
    """Price class and the optional custom domain with its certificate (each needs the other)."""
    price_class = template.add_parameter(
        Parameter(
            "PriceClass",
            Type="String",
            Default="PriceClass_All",
            AllowedValues=["PriceClass_100", "PriceClass_200", "PriceClass_All"],
            Description="Which CloudFront edge locations serve the images.",
        )
    )
    alternate_domain_name = template.add_parameter(
        Parameter(
            "AlternateDomainName",
            Type="String",
            Default="",
            AllowedPattern=r"^$|^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$",
            ConstraintDescription="empty, or a lowercase domain name such as images.example.com",
            Description="Optional custom domain for the distribution (needs AcmCertificateArn).",
        )
    )
    acm_certificate_arn = template.add_parameter(
        Parameter(
            "AcmCertificateArn",
            Type="String",
            Default="",
            AllowedPattern=r"^$|^arn:aws[a-z-]*:acm:"
            + CLOUDFRONT_CERTIFICATE_REGION
            + r":\d{12}:certificate/[0-9a-f-]+$",
            ConstraintDescription="empty, or an ACM certificate ARN in " + CLOUDFRONT_CERTIFICATE_REGION,
            Description="ACM certificate in " + CLOUDFRONT_CERTIFICATE_REGION + " covering AlternateDomainName.",
        )
    )
    domain_given = Not(Equals(alternate_domain_name.ref(), ""))
    certificate_given = Not(Equals(acm_certificate_arn.ref(), ""))
    has_custom_domain = add_condition(template, "HasCustomDomain", And(domain_given, certificate_given))
    template.add_rule(
        "CustomDomainNeedsCertificate",
        {
            "RuleCondition": domain_given,
            "Assertions": [
                {
                    "Assert": certificate_given,
                    "AssertDescription": "AlternateDomainName needs AcmCertificateArn (a certificate in "
                    + CLOUDFRONT_CERTIFICATE_REGION
                    + ").",
                }
            ],
        },
    )
    template.add_rule(
        "CertificateNeedsCustomDomain",
        {
            "RuleCondition": certificate_given,
            "Assertions": [
                {
                    "Assert": domain_given,
                    "AssertDescription": "AcmCertificateArn is used only together with AlternateDomainName.",
                }
            ],
        },
    )
    allowed_origins, has_allowed_origins = add_allowed_origins_parameter(template)
    return ViewerParameters(
        price_class, alternate_domain_name, acm_certificate_arn, has_custom_domain, allowed_origins, has_allowed_origins
    )


def add_allowed_origins_parameter(template: Template) -> tuple[Parameter, TemplateCondition]:
    allowed_origins = template.add_parameter(
        Parameter(
            ALLOWED_ORIGINS_PARAMETER,
            Type="String",
            Default="",
            AllowedPattern=ALLOWED_ORIGINS_PATTERN,
            ConstraintDescription="empty, *, or origins such as https://example.com separated by commas",
            Description="Web pages allowed to read the answers from a script (CORS), e.g. the ?showExif=true "
            "JSON: empty (default) for none, * for any, or origins such as https://example.com,https://a.example.org.",
        )
    )
    has_allowed_origins = add_condition(template, "HasAllowedOrigins", Not(Equals(allowed_origins.ref(), "")))
    return allowed_origins, has_allowed_origins


def add_viewer_request_function(template: Template, title: str, name: str, code: str, comment: str) -> CloudFrontFunction:
    """A published cloudfront-js-2.0 function named `<stack>-<name>`; code over CloudFront's limit is refused."""
    size = len(code.encode("utf-8"))
    if size > CLOUDFRONT_FUNCTION_CODE_LIMIT_BYTES:
        raise ViewerRequestCodeTooLarge(
            f"the CloudFront Function is {size} bytes; CloudFront accepts {CLOUDFRONT_FUNCTION_CODE_LIMIT_BYTES}"
        )
    return template.add_resource(
        CloudFrontFunction(
            title,
            Name=Sub("${AWS::StackName}-" + name),
            AutoPublish=True,
            FunctionCode=code,
            FunctionConfig=FunctionConfig(Comment=comment, Runtime="cloudfront-js-2.0"),
        )
    )


def viewer_request_association(function: CloudFrontFunction) -> FunctionAssociation:
    # CloudFront allows one viewer-request function per cache behaviour, so each mode has exactly one.
    return FunctionAssociation(EventType="viewer-request", FunctionARN=function.get_att("FunctionMetadata.FunctionARN"))


def distribution_arn(distribution: Distribution) -> Sub:
    """The ARN resource policies name as aws:SourceArn (SourceArn) to admit this distribution only."""
    return Sub("arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Id}", Id=distribution.ref())


def add_image_cache_policy(template: Template) -> CachePolicy:
    return template.add_resource(
        CachePolicy(
            "ImageCachePolicy",
            CachePolicyConfig=CachePolicyConfig(
                Name=Sub("${AWS::StackName}-images"),
                Comment="One cached copy per answer: the viewer-request function leaves showExif=true or nothing.",
                DefaultTTL=DEFAULT_TTL_SECONDS,
                MinTTL=0,
                MaxTTL=MAX_TTL_SECONDS,
                ParametersInCacheKeyAndForwardedToOrigin=ParametersInCacheKeyAndForwardedToOrigin(
                    EnableAcceptEncodingGzip=True,
                    EnableAcceptEncodingBrotli=True,
                    QueryStringsConfig=CacheQueryStringsConfig(
                        QueryStringBehavior="whitelist", QueryStrings=[SHOW_EXIF_QUERY]
                    ),
                    HeadersConfig=CacheHeadersConfig(HeaderBehavior="none"),
                    CookiesConfig=CacheCookiesConfig(CookieBehavior="none"),
                ),
            ),
        )
    )


def add_image_origin_request_policy(template: Template) -> OriginRequestPolicy:
    return template.add_resource(
        OriginRequestPolicy(
            "ImageOriginRequestPolicy",
            OriginRequestPolicyConfig=OriginRequestPolicyConfig(
                Name=Sub("${AWS::StackName}-images"),
                Comment="Forward showExif only: no viewer headers or cookies reach the signed origin request.",
                QueryStringsConfig=OriginRequestQueryStringsConfig(
                    QueryStringBehavior="whitelist", QueryStrings=[SHOW_EXIF_QUERY]
                ),
                HeadersConfig=OriginRequestHeadersConfig(HeaderBehavior="none"),
                CookiesConfig=OriginRequestCookiesConfig(CookieBehavior="none"),
            ),
        )
    )


def cors_config(viewer: ViewerParameters) -> If:
    """Access-Control-Allow-Origin for the AllowedOrigins, or nothing when it is empty.

    On every answer of the distribution, not on the ?showExif=true JSON alone: CloudFront chooses a cache
    behaviour, and so a response headers policy, by path only, never by query string, so no policy can tell the
    JSON from the image of the same key. The image is no more exposed by it: anyone with its URL can fetch it;
    CORS only lets the allowed pages' scripts read what they fetch."""
    return viewer.has_allowed_origins.choose(
        CorsConfig(
            AccessControlAllowCredentials=False,
            AccessControlAllowHeaders=AccessControlAllowHeaders(Items=CORS_ALLOWED_HEADERS),
            AccessControlAllowMethods=AccessControlAllowMethods(Items=VIEWER_METHODS),
            AccessControlAllowOrigins=AccessControlAllowOrigins(Items=Split(",", viewer.allowed_origins.ref())),
            AccessControlMaxAgeSec=CORS_MAX_AGE_SECONDS,
            # The transform sends no CORS headers; the policy's are the only ones.
            OriginOverride=True,
        ),
        NoValue,
    )


def add_security_headers_policy(template: Template, viewer: ViewerParameters) -> ResponseHeadersPolicy:
    return template.add_resource(
        ResponseHeadersPolicy(
            "SecurityHeadersPolicy",
            ResponseHeadersPolicyConfig=ResponseHeadersPolicyConfig(
                Name=Sub("${AWS::StackName}-security-headers"),
                Comment="HSTS, nosniff, no framing, no referrer leaks; CORS for AllowedOrigins when given.",
                CorsConfig=cors_config(viewer),
                SecurityHeadersConfig=SecurityHeadersConfig(
                    StrictTransportSecurity=StrictTransportSecurity(
                        AccessControlMaxAgeSec=HSTS_MAX_AGE_SECONDS,
                        IncludeSubdomains=True,
                        Override=True,
                    ),
                    ContentTypeOptions=ContentTypeOptions(Override=True),
                    FrameOptions=FrameOptions(FrameOption="DENY", Override=True),
                    ReferrerPolicy=ReferrerPolicy(ReferrerPolicy="strict-origin-when-cross-origin", Override=True),
                ),
            ),
        )
    )


def viewer_certificate(viewer: ViewerParameters) -> If:
    """A custom domain gets its ACM certificate and TLSv1.2_2021; otherwise CloudFront's own certificate."""
    return viewer.has_custom_domain.choose(
        ViewerCertificate(
            AcmCertificateArn=viewer.acm_certificate_arn.ref(),
            SslSupportMethod="sni-only",
            MinimumProtocolVersion=VIEWER_MINIMUM_TLS,
        ),
        ViewerCertificate(CloudFrontDefaultCertificate=True),
    )


def add_image_distribution(
    template: Template,
    viewer: ViewerParameters,
    origin: Origin,
    viewer_request_function: CloudFrontFunction,
    **behaviour: object,
) -> Distribution:
    """The distribution around one origin, with the shared policies, the mode's viewer-request function and its
    ID and domain name as outputs; `behaviour` adds what else the origin needs (the edge signer)."""
    image_cache_policy = add_image_cache_policy(template)
    image_origin_request_policy = add_image_origin_request_policy(template)
    security_headers_policy = add_security_headers_policy(template, viewer)
    distribution = template.add_resource(
        Distribution(
            "Distribution",
            DistributionConfig=DistributionConfig(
                Enabled=True,
                Comment=Sub("${AWS::StackName}: metadata-stripped images"),
                HttpVersion="http2and3",
                IPV6Enabled=True,
                PriceClass=viewer.price_class.ref(),
                Aliases=viewer.has_custom_domain.choose([viewer.alternate_domain_name.ref()], NoValue),
                ViewerCertificate=viewer_certificate(viewer),
                Origins=[origin],
                DefaultCacheBehavior=DefaultCacheBehavior(
                    TargetOriginId=origin.Id,
                    ViewerProtocolPolicy="redirect-to-https",
                    AllowedMethods=VIEWER_METHODS,
                    CachedMethods=VIEWER_METHODS,
                    Compress=True,
                    CachePolicyId=image_cache_policy.ref(),
                    OriginRequestPolicyId=image_origin_request_policy.ref(),
                    ResponseHeadersPolicyId=security_headers_policy.ref(),
                    FunctionAssociations=[viewer_request_association(viewer_request_function)],
                    **behaviour,
                ),
            ),
            Metadata=checkov_skips(*DISTRIBUTION_CHECKOV_SKIPS),
        )
    )
    template.add_output(Output("DistributionId", Value=distribution.ref(), Description="CloudFront distribution ID."))
    template.add_output(
        Output(
            "DistributionDomainName",
            Value=distribution.get_att("DomainName"),
            Description="Fetch images at https://<this>/<key>.",
        )
    )
    return distribution
