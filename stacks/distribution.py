"""What both distributions share (the Object Lambda one in the cdn stack and the function-URL one): viewer-facing
parameters, the cache, origin request and response headers policies, and the distribution around an origin."""

from troposphere import And, Equals, GetAtt, If, Not, Output, Parameter, Ref, Sub, Template
from troposphere.cloudfront import (
    CacheCookiesConfig,
    CacheHeadersConfig,
    CachePolicy,
    CachePolicyConfig,
    CacheQueryStringsConfig,
    ContentTypeOptions,
    DefaultCacheBehavior,
    Distribution,
    DistributionConfig,
    FrameOptions,
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

from stacks.common import DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS, checkov_skips

# The only request value that changes the answer: ?showExif=true returns EXIF JSON instead of the image.
SHOW_EXIF_QUERY = "showExif"
# Two years, the value HSTS preload lists ask for.
HSTS_MAX_AGE_SECONDS = 2 * 365 * 24 * 60 * 60
# CloudFront's viewer TLS floor with a custom certificate. Without one it is fixed at TLSv1.
# Source: CloudFront Developer Guide, secure-connections-supported-viewer-protocols-ciphers.html.
VIEWER_MINIMUM_TLS = "TLSv1.2_2021"

DISTRIBUTION_CHECKOV_SKIPS = (
    ("CKV_AWS_68", "A WAF web ACL costs a monthly fee per distribution; attach one when the images warrant it."),
    ("CKV_AWS_86", "Access logs need a log bucket with ACLs; enable standard logging when wanted."),
    (
        "CKV_AWS_174",
        "TLSv1.2_2021 is set whenever a custom domain and certificate are given; CloudFront's default "
        "certificate fixes the minimum at TLSv1.",
    ),
)


def add_viewer_parameters(template: Template) -> None:
    """Price class and the optional custom domain with its certificate (each needs the other)."""
    template.add_parameter(
        Parameter(
            "PriceClass",
            Type="String",
            Default="PriceClass_All",
            AllowedValues=["PriceClass_100", "PriceClass_200", "PriceClass_All"],
            Description="Which CloudFront edge locations serve the images.",
        )
    )
    template.add_parameter(
        Parameter(
            "AlternateDomainName",
            Type="String",
            Default="",
            AllowedPattern=r"^$|^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$",
            ConstraintDescription="empty, or a lowercase domain name such as images.example.com",
            Description="Optional custom domain for the distribution (needs AcmCertificateArn).",
        )
    )
    template.add_parameter(
        Parameter(
            "AcmCertificateArn",
            Type="String",
            Default="",
            AllowedPattern=r"^$|^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/[0-9a-f-]+$",
            ConstraintDescription="empty, or an ACM certificate ARN in us-east-1",
            Description="ACM certificate in us-east-1 covering AlternateDomainName.",
        )
    )
    template.add_condition(
        "HasCustomDomain",
        And(Not(Equals(Ref("AlternateDomainName"), "")), Not(Equals(Ref("AcmCertificateArn"), ""))),
    )
    template.add_rule(
        "CustomDomainNeedsCertificate",
        {
            "RuleCondition": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlternateDomainName"}, ""]}]},
            "Assertions": [
                {
                    "Assert": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AcmCertificateArn"}, ""]}]},
                    "AssertDescription": "AlternateDomainName needs AcmCertificateArn (a certificate in us-east-1).",
                }
            ],
        },
    )
    template.add_rule(
        "CertificateNeedsCustomDomain",
        {
            "RuleCondition": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AcmCertificateArn"}, ""]}]},
            "Assertions": [
                {
                    "Assert": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlternateDomainName"}, ""]}]},
                    "AssertDescription": "AcmCertificateArn is used only together with AlternateDomainName.",
                }
            ],
        },
    )


def add_cache_policy(template: Template) -> CachePolicy:
    return template.add_resource(
        CachePolicy(
            "ImageCachePolicy",
            CachePolicyConfig=CachePolicyConfig(
                Name=Sub("${AWS::StackName}-images"),
                Comment="One cached copy per showExif value; nothing else varies the answer.",
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


def add_origin_request_policy(template: Template) -> OriginRequestPolicy:
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


def add_response_headers_policy(template: Template) -> ResponseHeadersPolicy:
    return template.add_resource(
        ResponseHeadersPolicy(
            "SecurityHeadersPolicy",
            ResponseHeadersPolicyConfig=ResponseHeadersPolicyConfig(
                Name=Sub("${AWS::StackName}-security-headers"),
                Comment="HSTS, nosniff, no framing, no referrer leaks.",
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


def viewer_certificate() -> If:
    """A custom domain gets its ACM certificate and TLSv1.2_2021; otherwise CloudFront's own certificate."""
    return If(
        "HasCustomDomain",
        ViewerCertificate(
            AcmCertificateArn=Ref("AcmCertificateArn"),
            SslSupportMethod="sni-only",
            MinimumProtocolVersion=VIEWER_MINIMUM_TLS,
        ),
        ViewerCertificate(CloudFrontDefaultCertificate=True),
    )




def add_image_distribution(template: Template, origin: Origin, **behaviour: object) -> Distribution:
    """The distribution around one origin, with the shared policies; `behaviour` adds the origin's own
    function associations to the default cache behaviour."""
    cache_policy = add_cache_policy(template)
    origin_request_policy = add_origin_request_policy(template)
    headers_policy = add_response_headers_policy(template)
    distribution = template.add_resource(
        Distribution(
            "Distribution",
            DistributionConfig=DistributionConfig(
                Enabled=True,
                Comment=Sub("${AWS::StackName}: metadata-stripped images"),
                HttpVersion="http2and3",
                IPV6Enabled=True,
                PriceClass=Ref("PriceClass"),
                Aliases=If("HasCustomDomain", [Ref("AlternateDomainName")], Ref("AWS::NoValue")),
                ViewerCertificate=viewer_certificate(),
                Origins=[origin],
                DefaultCacheBehavior=DefaultCacheBehavior(
                    TargetOriginId=origin.Id,
                    ViewerProtocolPolicy="redirect-to-https",
                    AllowedMethods=["GET", "HEAD"],
                    CachedMethods=["GET", "HEAD"],
                    Compress=True,
                    CachePolicyId=Ref(cache_policy),
                    OriginRequestPolicyId=Ref(origin_request_policy),
                    ResponseHeadersPolicyId=Ref(headers_policy),
                    **behaviour,
                ),
            ),
            Metadata=checkov_skips(*DISTRIBUTION_CHECKOV_SKIPS),
        )
    )
    template.add_output(Output("DistributionId", Value=Ref(distribution), Description="CloudFront distribution ID."))
    template.add_output(
        Output(
            "DistributionDomainName",
            Value=GetAtt(distribution, "DomainName"),
            Description="Fetch images at https://<this>/<key>.",
        )
    )
    return distribution
