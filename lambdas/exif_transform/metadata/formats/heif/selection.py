"""HEIF: what is kept (the primary, its derivation inputs and alpha images) and what goes."""

from __future__ import annotations

import struct
from typing import NamedTuple

from ... import kinds
from ...errors import ImageError
from ...exif_block import EXIF_HEADER, exif_facts, minimal_exif
from ..contract import KEEP
from .payloads import exif_tiff, item_payload
from .tables import ALPHA_AUX_TYPES, AUXL, CDSC, DIMG, EXIF_ITEM, FMT, IMAGE_ITEM_TYPES, MIME_ITEM, THMB, XMP_CONTENT_TYPE, Tables, error


def kept_items(walk: Tables) -> list[int]:
    """The primary item, the items it derives from and its alpha images, in iinf order."""
    derived: dict[int, list[int]] = {}
    auxiliaries: dict[int, list[int]] = {}  # image -> alpha images that name it
    for reference in walk.references:
        if reference.type == DIMG:
            derived.setdefault(reference.source, []).extend(reference.targets)
        elif reference.type == AUXL and _is_alpha(walk, reference.source):
            for target in reference.targets:
                auxiliaries.setdefault(target, []).append(reference.source)
    kept = {walk.primary}
    queue = [walk.primary]
    while queue:
        item_id = queue.pop()
        for next_id in derived.get(item_id, []) + auxiliaries.get(item_id, []):
            if next_id not in walk.items:
                raise error(f"item {item_id} refers to undeclared item {next_id}", walk.meta.start)
            if next_id not in kept:
                kept.add(next_id)
                queue.append(next_id)
    _check_acyclic(walk, derived, kept)
    for item_id in kept:
        if walk.items[item_id].type not in IMAGE_ITEM_TYPES:
            raise error(f"kept item {item_id} is of type {walk.items[item_id].type!r}, not an image", walk.meta.start)
    return [item_id for item_id in walk.items if item_id in kept]


def _is_alpha(walk: Tables, item_id: int) -> bool:
    for index, _ in walk.associations.get(item_id, ()):
        if walk.aux_types.get(index - 1) in ALPHA_AUX_TYPES:
            return True
    return False


def _check_acyclic(walk: Tables, derived: dict[int, list[int]], kept: set[int]) -> None:
    """A derivation loop (a grid made of itself) would send a decoder round for ever."""
    state: dict[int, int] = {}  # 1 = on the current path, 2 = done
    for root in kept:
        if root in state:
            continue
        stack = [(root, iter(derived.get(root, ())))]
        state[root] = 1
        while stack:
            node, targets = stack[-1]
            target = next(targets, None)
            if target is None:
                state[node] = 2
                stack.pop()
            elif state.get(target) == 1:
                raise error(f"'dimg' references loop through item {target}", walk.meta.start)
            elif target not in state:
                state[target] = 1
                stack.append((target, iter(derived.get(target, ()))))


def exif_items(walk: Tables) -> list[int]:
    """Exif items, the ones that describe the primary image first."""
    describing = {r.source for r in walk.references if r.type == CDSC and walk.primary in r.targets}
    exif = [item.id for item in walk.items.values() if item.type == EXIF_ITEM]
    return sorted(exif, key=lambda item_id: item_id not in describing)


# ---------------------------------------------------------------- the output
class Plan(NamedTuple):
    items: list[int]
    properties: list[int]  # 0-based indexes into walk.properties, in order
    exif: bytes | None  # the minimal Exif item payload (keep_copyright)
    removed: frozenset[str]


def _removed_kinds(data: bytes, walk: Tables, kept: set[int]) -> set[str]:
    removed = set(walk.removed)
    thumbnails = {r.source for r in walk.references if r.type == THMB}
    for item in walk.items.values():
        if item.id in kept:
            continue
        if item.type == EXIF_ITEM:
            removed.add(kinds.EXIF)
            try:
                removed |= exif_facts(exif_tiff(item_payload(data, walk, item.id), item.id), FMT).kinds
            except ImageError:
                pass  # a malformed EXIF item goes all the same
        elif item.type == MIME_ITEM and item.content_type.split(b";")[0].strip() == XMP_CONTENT_TYPE:
            removed.add(kinds.XMP)
        elif item.type == b"iptc":
            removed.add(kinds.IPTC)
        elif item.id in thumbnails:
            removed.add(kinds.THUMBNAIL)
        else:
            removed.add(kinds.OTHER)
    return removed


def plan(data: bytes, walk: Tables, keep_copyright: bool) -> Plan:
    items = kept_items(walk)
    kept = set(items)
    removed = _removed_kinds(data, walk, kept)
    used: set[int] = set()
    for item_id in items:
        for index, essential in walk.associations.get(item_id, ()):
            if index == 0:
                continue
            if index > len(walk.properties):
                raise error(f"item {item_id} is associated with property {index} of {len(walk.properties)}", walk.meta.start)
            if walk.property_answers[index - 1] is KEEP:
                used.add(index - 1)
            elif essential and walk.property_kinds[index - 1] == kinds.OTHER:
                prop = walk.properties[index - 1]
                raise error(f"item {item_id} needs unknown property {prop.name()!r}", prop.start)
            else:
                removed.add(walk.property_kinds[index - 1])
    exif = None
    describing = exif_items(walk)
    if keep_copyright and describing:
        try:
            facts = exif_facts(exif_tiff(item_payload(data, walk, describing[0]), describing[0]), FMT)
        except ImageError:
            facts = None
        tiff = minimal_exif(facts._replace(orientation=1), True) if facts else None
        if tiff is not None:
            exif = struct.pack(">I", len(EXIF_HEADER)) + EXIF_HEADER + tiff
            if len(describing) == 1 and item_payload(data, walk, describing[0]) == exif:
                removed.discard(kinds.EXIF)  # already the minimal item: a second strip logs nothing
    return Plan(items, sorted(used), exif, frozenset(removed))

