"""The private image bucket (the one resource that holds user data, so it outlives its stack) and its policy."""

from troposphere import Output, Template
from troposphere.s3 import (
    Bucket,
    BucketPolicy,
    BucketEncryption,
    OwnershipControls,
    OwnershipControlsRule,
    PublicAccessBlockConfiguration,
    ServerSideEncryptionByDefault,
    ServerSideEncryptionRule,
    VersioningConfiguration,
)

from stacks import policies
from stacks.common import checkov_skips


def block_all_public_access() -> PublicAccessBlockConfiguration:
    return PublicAccessBlockConfiguration(
        BlockPublicAcls=True,
        BlockPublicPolicy=True,
        IgnorePublicAcls=True,
        RestrictPublicBuckets=True,
    )


def add_image_bucket(template: Template) -> Bucket:
    """The private bucket, with its name as an output."""
    image_bucket = template.add_resource(
        Bucket(
            "ImageBucket",
            # Retain on delete and on replacement: deleting or rebuilding the stack never deletes images.
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
            PublicAccessBlockConfiguration=block_all_public_access(),
            # ACLs off: the bucket policy and access point policies alone decide access.
            OwnershipControls=OwnershipControls(Rules=[OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]),
            BucketEncryption=BucketEncryption(
                ServerSideEncryptionConfiguration=[
                    ServerSideEncryptionRule(
                        BucketKeyEnabled=True,
                        ServerSideEncryptionByDefault=ServerSideEncryptionByDefault(SSEAlgorithm="AES256"),
                    )
                ]
            ),
            # An overwritten or deleted image can be recovered.
            VersioningConfiguration=VersioningConfiguration(Status="Enabled"),
            Metadata=checkov_skips(
                (
                    "CKV_AWS_18",
                    "Server access logs need a second bucket and cost per request; CloudFront's own logs can "
                    "be enabled on the distribution when wanted.",
                ),
            ),
        )
    )
    template.add_output(Output("BucketName", Value=image_bucket.ref(), Description="Upload original images here."))
    return image_bucket


def add_image_bucket_policy(template: Template, image_bucket: Bucket, document: object = None) -> BucketPolicy:
    """TLS-only access (the default document), or `document`: the same with the read access the origin mode
    grants (built with policies.bucket_policy, possibly one per mode under a condition)."""
    return template.add_resource(
        BucketPolicy(
            "ImageBucketPolicy",
            Bucket=image_bucket.ref(),
            PolicyDocument=document if document is not None else policies.bucket_policy(image_bucket.get_att("Arn")),
        )
    )
