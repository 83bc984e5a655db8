"""The deploy modes: the stacks each one deploys, in order, where they go, and so the steps a run announces."""

from __future__ import annotations

from dataclasses import dataclass

from stacks.facts import EDGE_REGION, STACK_SUFFIXES

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
    # The storage stack's OriginMode (stacks.common.ORIGIN_MODES) in a mode that has one, else "".
    origin_mode: str = ""
    # The role whose stack owns the Object Lambda access point's one policy, in a mode that has one, else "".
    access_point_policy_stack: str = ""

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
            origin_mode="olap",
            access_point_policy_stack="storage",
        ),
        Mode(
            name="olap-oac",
            stacks=(StackSpec("storage", TARGET), StackSpec("cdn-oac", TARGET)),
            transform_stack="storage",
            bucket_stack="storage",
            distribution_stack="cdn-oac",
            needs_function_urls=False,
            origin_mode="olap-oac",
            access_point_policy_stack="cdn-oac",
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


def names(modes: list[str]) -> str:
    """`a`, `a or b`, `a, b or c`."""
    return " or ".join(modes) if len(modes) < 3 else ", ".join(modes[:-1]) + " or " + modes[-1]


def clashing_stacks(mode: Mode) -> list[tuple[str, tuple[Mode, ...]]]:
    """(role, the other modes deploying it) for each stack that holds another mode's transform. Every mode
    names the transform <prefix>-exif-transform, so such a stack with the same prefix makes this mode fail
    half-way."""
    clashes: dict[str, tuple[Mode, ...]] = {}
    for other in MODES.values():
        if other.transform_stack != mode.transform_stack:
            clashes[other.transform_stack] = (*clashes.get(other.transform_stack, ()), other)
    return list(clashes.items())


def switch_blockers(mode: Mode) -> list[tuple[str, Mode]]:
    """(role, other mode) for each distribution stack of a mode that shares this mode's storage stack but
    reaches it another way. The Object Lambda access point has one policy, owned by the storage stack in one
    mode and by the distribution stack in the other: while the other mode's distribution stack exists,
    deploying this mode would take the access point from under it (or fail on the policy it owns)."""
    return [
        (other.distribution_stack, other)
        for other in MODES.values()
        if other.transform_stack == mode.transform_stack
        and other.access_point_policy_stack != mode.access_point_policy_stack
        and other.distribution_stack not in mode.roles
    ]


def leftover_stacks(mode: Mode) -> list[tuple[StackSpec, Mode]]:
    """(stack, other mode) for each stack of a mode sharing this mode's storage stack that this mode neither
    deploys nor refuses to run next to: after a switch to this mode it serves nothing (the olap edge signer
    after a switch to olap-oac)."""
    blockers = {role for role, _ in switch_blockers(mode)}
    return [
        (spec, other)
        for other in MODES.values()
        if other.transform_stack == mode.transform_stack and other is not mode
        for spec in other.stacks
        if spec.role not in mode.roles and spec.role not in blockers
    ]
