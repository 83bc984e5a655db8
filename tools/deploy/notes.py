"""What deploy.sh says after a successful run about the deployment it leaves: a showExif setting that gives
away places and identities, and a stack of the previous mode that nothing uses any more."""

from __future__ import annotations

from stacks.transform import EXIF_QUERY_PARAMETER, EXIF_QUERY_PRIVATE, EXIF_QUERY_REVEALING
from tools.deploy.modes import Mode, stack_name
from tools.deploy.stacks_state import profile_flag


def exif_query_warning(stack: str, region: str, role: str, parameters: dict[str, str], profile: str) -> str | None:
    """One line when the stack answers ?showExif=true with every field; None otherwise."""
    if parameters.get(EXIF_QUERY_PARAMETER) != EXIF_QUERY_REVEALING:
        return None
    command = (
        f"aws cloudformation deploy --stack-name {stack} --region {region}{profile_flag(profile)} "
        f"--template-file templates/{role}.json --capabilities CAPABILITY_NAMED_IAM "
        f"--parameter-overrides {EXIF_QUERY_PARAMETER}={EXIF_QUERY_PRIVATE}"
    )
    return (
        f"warning: stack {stack} in {region} has {EXIF_QUERY_PARAMETER}={EXIF_QUERY_REVEALING}: ?showExif=true "
        "gives anyone with an image's URL its GPS position, serial numbers and owner names; to answer with "
        f"technical fields only, run '{command}' (later runs of deploy.sh keep it)"
    )


def unused_edge_stack_note(
    stack: str, region: str, status: str, other: Mode, mode: Mode, prefix: str, profile: str
) -> str:
    """The previous mode's edge signer stack, which this mode does not use; deploy.sh does not delete it."""
    return (
        f"note: stack {stack} in {region} ({status}) is the --mode {other.name} edge signer, which --mode "
        f"{mode.name} does not use: once CloudFront has removed the function's replicas (typically a few hours "
        f"after the {stack_name(prefix, other.distribution_stack)} distribution is gone) delete it with "
        f"'aws cloudformation delete-stack --stack-name {stack} --region {region}{profile_flag(profile)}' "
        "(deploy.sh does not delete it)"
    )
