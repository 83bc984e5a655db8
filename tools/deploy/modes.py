"""The deploy modes: the stacks each one deploys, in order, where they go, and so the steps a run announces."""

from __future__ import annotations

from dataclasses import dataclass

from stacks.common import EDGE_REGION, STACK_SUFFIXES

# Steps before the first stack, the same in every mode: generate the templates, package the transform,
# upload it to the artifact bucket. One step per stack follows, then one printing the outputs.
PREPARE_STEPS = 3
OUTPUT_STEPS = 1

# Where a stack goes: the region on the command line, or the edge region.
TARGET = "target"
EDGE = "edge"


@dataclass(frozen=True)
class StackSpec:
    role: str  # a key of stacks.common.STACK_SUFFIXES; generate.py writes its template as templates/<role>.json
    placement: str  # TARGET or EDGE

    def region(self, target_region: str) -> str:
        return EDGE_REGION if self.placement == EDGE else target_region


@dataclass(frozen=True)
class Mode:
    name: str
    stacks: tuple[StackSpec, ...]  # in deploy order
    transform_stack: str  # the role whose stack holds the function <prefix>-exif-transform
    bucket_stack: str  # the role whose stack outputs BucketName
    distribution_stack: str  # the role whose stack outputs DistributionDomainName and DistributionId
    needs_function_urls: bool

    @property
    def steps(self) -> int:
        return PREPARE_STEPS + len(self.stacks) + OUTPUT_STEPS

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(stack.role for stack in self.stacks)


MODES = {
    mode.name: mode
    for mode in (
        Mode(
            name="olap",
            stacks=(StackSpec("storage", TARGET), StackSpec("lambda-edge", EDGE), StackSpec("cdn", TARGET)),
            transform_stack="storage",
            bucket_stack="storage",
            distribution_stack="cdn",
            needs_function_urls=False,
        ),
        Mode(
            name="function-url",
            stacks=(StackSpec("function-url", TARGET),),
            transform_stack="function-url",
            bucket_stack="function-url",
            distribution_stack="function-url",
            needs_function_urls=True,
        ),
    )
}
DEFAULT_MODE = "olap"
# The mode suggested when S3 Object Lambda refuses the account: it needs no S3 Object Lambda.
FALLBACK_MODE = "function-url"


def stack_name(prefix: str, role: str) -> str:
    return prefix + STACK_SUFFIXES[role]


def clashing_stacks(mode: Mode) -> list[tuple[str, Mode]]:
    """(role, other mode) for each other mode whose transform lives in another stack. Every mode names the
    transform <prefix>-exif-transform, so such a stack with the same prefix makes this mode fail half-way."""
    clashes: dict[str, Mode] = {}
    for other in MODES.values():
        if other.transform_stack != mode.transform_stack:
            clashes.setdefault(other.transform_stack, other)
    return list(clashes.items())
