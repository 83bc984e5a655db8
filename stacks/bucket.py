"""The private image bucket (the one resource that holds user data, so it outlives its stack) and its policy,
or a bucket the user already has (ExistingBucketName), which the stacks never create, change or delete."""

from typing import NamedTuple

from troposphere import Equals, Output, Parameter, Ref, Sub, Template
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
from stacks.common import (
    BUCKET_NAME_MAX_LENGTH,
    EXISTING_BUCKET_NAME_PATTERN,
    TemplateCondition,
    add_condition,
    checkov_skips,
)

EXISTING_BUCKET_PARAMETER = "ExistingBucketName"
IMAGE_BUCKET = "ImageBucket"


class ImageBucket(NamedTuple):
    """The bucket the stack serves: its name and ARN (expressions valid in both cases), the condition under
    which the stack created it (ExistingBucketName empty), and that created bucket's own ARN, for what exists
    only under the same condition (its policy)."""

    name: object
    arn: object
    created: TemplateCondition
    created_arn: object


def block_all_public_access() -> PublicAccessBlockConfiguration:
    return PublicAccessBlockConfiguration(
        BlockPublicAcls=True,
        BlockPublicPolicy=True,
        IgnorePublicAcls=True,
        RestrictPublicBuckets=True,
    )


def add_existing_bucket_parameter(template: Template) -> Parameter:
    return template.add_parameter(
        Parameter(
            EXISTING_BUCKET_PARAMETER,
            Type="String",
            Default="",
            MaxLength=BUCKET_NAME_MAX_LENGTH,
            AllowedPattern=EXISTING_BUCKET_NAME_PATTERN,
            ConstraintDescription="empty, or the name of a bucket in this account and region",
            Description="Empty: the stack creates a private bucket. A name: serve that bucket instead; the stack "
            "never creates, changes or deletes it, and writes no bucket policy (deploy.sh --bucket checks it and "
            "adds the statements this mode needs).",
        )
    )


def add_image_bucket(template: Template) -> ImageBucket:
    """The private bucket unless ExistingBucketName names one, with the served bucket's name as an output."""
    existing = add_existing_bucket_parameter(template)
    created = add_condition(template, "CreateImageBucket", Equals(existing.ref(), ""))
    image_bucket = template.add_resource(
        Bucket(
            IMAGE_BUCKET,
            Condition=created.title,
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
    name = created.choose(image_bucket.ref(), existing.ref())
    template.add_output(Output("BucketName", Value=name, Description="Upload original images here."))
    # An ARN built from the name is the same whichever bucket it is (S3 bucket ARNs carry no region or account).
    arn = Sub("arn:${AWS::Partition}:s3:::${Name}", Name=name)
    return ImageBucket(name, arn, created, image_bucket.get_att("Arn"))


def add_image_bucket_policy(template: Template, image_bucket: ImageBucket, document: object = None) -> BucketPolicy:
    """TLS-only access (the default document), or `document`: the same with the read access the origin mode
    grants (built with policies.bucket_policy, possibly one per mode under a condition). Only on a bucket the
    stack created: a bucket's policy is one document, and the stack must never replace one it does not own."""
    return template.add_resource(
        BucketPolicy(
            "ImageBucketPolicy",
            Condition=image_bucket.created.title,
            Bucket=Ref(IMAGE_BUCKET),
            PolicyDocument=document if document is not None else policies.bucket_policy(image_bucket.created_arn),
        )
    )
