"""HEIF: what is kept and what goes, decided from the tables alone.

Every picture a viewer can be shown is kept:
    - the primary item and every other master image (a visible image item that is not a
      thumbnail or an auxiliary image): a collection keeps all of its pictures;
    - what each kept image is derived from ('dimg': grid tiles, overlay layers, identity
      derivations, a tone map's base and gain map, which may be a grid itself);
    - its alpha auxiliary images and Apple's HDR gain-map auxiliary image
      (urn:com:apple:photo:2020:aux:hdrgainmap), whose XMP item is kept reduced to the
      rendering namespaces (payloads.py);
    - every 'tmap' item whose base image is kept (ISO 21496-1 gain maps), and every
      altr, ster and pymd entity group with a kept member, with all of its members.
Everything else goes: Exif, XMP and other 'mime', 'uri ' items, thumbnails ('thmb'),
depth, disparity and matte auxiliaries, items nothing kept refers to, other entity
groups, and every reference and property association of what goes.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from ... import kinds
from ...errors import ImageError
from ...exif_block import EXIF_HEADER, ExifFacts, exif_facts, minimal_exif
from ...limits import MAX_EXIF_PAYLOAD
from .extents import ExtentIndex
from .properties import ALPHA_AUX_TYPES, APPLE_GAIN_MAP_AUX_TYPE, PROPERTY_ITEM_TYPES
from .tables import (
    ALTERNATIVES,
    AUXL,
    BASE,
    CDSC,
    DIMG,
    EXIF_ITEM,
    FMT,
    IMAGE_ITEM_TYPES,
    MIME_ITEM,
    PICTURE_GROUPS,
    PREM,
    PYRAMID,
    PYRAMID_HEAD,
    PYRAMID_PER_ENTITY,
    STEREO_PAIR,
    THMB,
    TONE_MAP_ITEM,
    XMP_CONTENT_TYPE,
    Group,
    Reference,
    Tables,
    error,
)

HIDDEN = 1  # infe flag
# References kept between kept items; thmb and cdsc go with what they point from.
KEPT_REFERENCES = frozenset({DIMG, AUXL, PREM, BASE})
GROUP_FIELDS = 4 + 4 + 4  # version and flags, group ID, entity count
KEPT_KINDS = {ALTERNATIVES: kinds.ALTERNATE, STEREO_PAIR: kinds.STEREO, PYRAMID: kinds.PYRAMID}


class Plan(NamedTuple):
    pictures: list[int]  # kept image items, in iinf order
    gain_map_xmp: list[int]  # XMP items of kept Apple gain maps: kept, reduced
    dropped: list[int]  # every other item
    properties: list[int]  # 0-based ipco indexes kept, in order
    associations: dict[int, list[tuple[int, bool]]]  # kept entity -> (0-based index, essential)
    references: list[Reference]  # kept, between kept items
    groups: list[Group]
    inputs: dict[int, int]  # kept derived item -> number of its dimg inputs
    exif: int | None  # the Exif item read_exif shows (the primary's first)
    exif_payload: bytes | None  # the minimal Exif item kept (keep_copyright)
    removed: frozenset[str]
    kept: frozenset[str]  # kinds of pictures kept beyond the primary


def exif_tiff(payload: bytes, item_id: int) -> bytes:
    # An Exif item: u32be offset from after this field to the TIFF header, then the block.
    if len(payload) < 4:
        raise ImageError(f"{FMT}: EXIF item {item_id} is {len(payload)} bytes")
    offset = int.from_bytes(payload[:4], "big")
    if offset > len(payload) - 4:
        raise ImageError(f"{FMT}: EXIF item {item_id} points its TIFF header past its end")
    return payload[4 + offset :]


def exif_items(tables: Tables) -> list[int]:
    """Exif items, the ones that describe the primary image first."""
    describing = {r.source for r in tables.references if r.type == CDSC and tables.primary in r.targets}
    exif = [item.id for item in tables.items.values() if item.type == EXIF_ITEM]
    return sorted(exif, key=lambda item_id: item_id not in describing)


def is_xmp(tables: Tables, item_id: int) -> bool:
    item = tables.items[item_id]
    return item.type == MIME_ITEM and item.content_type.split(b";")[0].strip() == XMP_CONTENT_TYPE


class _Graph:
    """The references and groups of one file, indexed once (dicts keyed by item ID)."""

    def __init__(self, tables: Tables) -> None:
        self.inputs: dict[int, list[int]] = {}
        self.auxiliary_of: dict[int, list[int]] = {}  # auxiliary image -> images it belongs to
        self.thumbnails: set[int] = set()
        self.describes: dict[int, list[int]] = {}  # cdsc: metadata item -> items
        for reference in tables.references:
            if reference.type == DIMG:
                self.inputs.setdefault(reference.source, []).extend(reference.targets)
            elif reference.type == AUXL:
                self.auxiliary_of.setdefault(reference.source, []).extend(reference.targets)
            elif reference.type == THMB:
                self.thumbnails.add(reference.source)
            elif reference.type == CDSC:
                self.describes.setdefault(reference.source, []).extend(reference.targets)
        self.aux_type: dict[int, bytes] = {}
        for item_id in self.auxiliary_of:
            for index, _ in tables.associations.get(item_id, ()):
                if 0 < index <= len(tables.properties) and tables.properties[index - 1].aux_type:
                    self.aux_type[item_id] = tables.properties[index - 1].aux_type
                    break

    def kept_auxiliary(self, item_id: int) -> bool:
        return self.aux_type.get(item_id) in ALPHA_AUX_TYPES or self.aux_type.get(item_id) == APPLE_GAIN_MAP_AUX_TYPE

    def is_picture(self, tables: Tables, item_id: int) -> bool:
        item = tables.items.get(item_id)
        if item is None or item.type not in IMAGE_ITEM_TYPES or item_id in self.thumbnails:
            return False
        return item_id not in self.auxiliary_of or self.kept_auxiliary(item_id)


def _check_group(tables: Tables, group: Group) -> None:
    size = GROUP_FIELDS + 4 * len(group.entities)
    if group.type == PYRAMID:
        size += PYRAMID_HEAD + PYRAMID_PER_ENTITY * len(group.entities)
    if group.payload[:4] != bytes(4) or len(group.payload) != size:
        raise error(f"entity group {group.id} ({group.type.decode()}) is {len(group.payload)} bytes, its fields take {size}", tables.meta.start)
    if group.id in tables.items:
        raise error(f"entity group {group.id} has the ID of an item", tables.meta.start)


def _kept_pictures(tables: Tables, graph: _Graph) -> tuple[set[int], list[Group]]:
    tone_maps: dict[int, list[int]] = {}  # base image -> tmap items derived from it
    for item in tables.items.values():
        if item.type == TONE_MAP_ITEM and graph.inputs.get(item.id):
            tone_maps.setdefault(graph.inputs[item.id][0], []).append(item.id)
    auxiliaries: dict[int, list[int]] = {}  # image -> its kept auxiliary images
    for source, targets in graph.auxiliary_of.items():
        if graph.kept_auxiliary(source):
            for target in targets:
                auxiliaries.setdefault(target, []).append(source)
    groups = [g for g in tables.groups if g.type in PICTURE_GROUPS and g.entities and all(graph.is_picture(tables, e) for e in g.entities)]
    groups_of: dict[int, list[Group]] = {}
    for group in groups:
        for entity in group.entities:
            groups_of.setdefault(entity, []).append(group)
    masters = [
        item.id
        for item in tables.items.values()
        if not item.flags & HIDDEN and item.id not in graph.auxiliary_of and graph.is_picture(tables, item.id)
    ]
    kept = {tables.primary, *masters}
    queue = list(kept)
    while queue:
        item_id = queue.pop()
        following = [*graph.inputs.get(item_id, ()), *auxiliaries.get(item_id, ()), *tone_maps.get(item_id, ())]
        for group in groups_of.get(item_id, ()):
            following += group.entities
        for next_id in following:
            if next_id not in tables.items:
                raise error(f"item {item_id} refers to undeclared item {next_id}", tables.meta.start)
            if next_id not in kept:
                kept.add(next_id)
                queue.append(next_id)
    for item_id in kept:
        if tables.items[item_id].type not in IMAGE_ITEM_TYPES:
            raise error(f"kept item {item_id} is of type {tables.items[item_id].type!r}, not an image", tables.meta.start)
    _check_acyclic(tables, graph.inputs, kept)
    kept_groups = [g for g in groups if any(e in kept for e in g.entities)]
    for group in kept_groups:
        _check_group(tables, group)
    return kept, kept_groups


def _check_acyclic(tables: Tables, derived: dict[int, list[int]], kept: set[int]) -> None:
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
                raise error(f"'dimg' references loop through item {target}", tables.meta.start)
            elif target not in state:
                state[target] = 1
                stack.append((target, iter(derived.get(target, ()))))


def _kept_properties(tables: Tables, entities: dict[int, bytes], removed: set[str]) -> tuple[list[int], dict[int, list[tuple[int, bool]]]]:
    """The properties the kept entities (item or group ID -> item type) use and may keep."""
    used: set[int] = set()
    associations: dict[int, list[tuple[int, bool]]] = {}
    for entity, item_type in entities.items():
        pairs = []
        for index, essential in tables.associations.get(entity, ()):
            if index == 0:
                continue
            if index > len(tables.properties):
                raise error(f"item {entity} is associated with property {index} of {len(tables.properties)}", tables.meta.start)
            prop = tables.properties[index - 1]
            owners = PROPERTY_ITEM_TYPES.get(prop.box.type)
            if prop.payload is not None and (owners is None or item_type in owners):
                used.add(index - 1)
                pairs.append((index - 1, essential))
            elif essential:
                reason = "unknown property" if not prop.known else "property"
                detail = f": {prop.problem}" if prop.known and prop.problem else ""
                raise error(f"item {entity} needs {reason} {prop.box.name()!r}{detail}", prop.box.start)
            else:
                removed.add(prop.kind)
        associations[entity] = pairs
    return sorted(used), associations


def _exif_facts(index: ExtentIndex, item_id: int) -> ExifFacts | None:
    try:
        return exif_facts(exif_tiff(index.payload(item_id, MAX_EXIF_PAYLOAD, "EXIF"), item_id), FMT)
    except ImageError:
        return None  # a malformed EXIF item goes all the same


def _removed_kinds(tables: Tables, graph: _Graph, dropped: list[int], facts: ExifFacts | None) -> set[str]:
    removed = set(tables.removed)
    for item_id in dropped:
        item = tables.items[item_id]
        if item.type == EXIF_ITEM:
            removed.add(kinds.EXIF)
        elif is_xmp(tables, item_id):
            removed.add(kinds.XMP)
        elif item_id in graph.thumbnails:
            removed.add(kinds.THUMBNAIL)
        else:
            removed.add(kinds.OTHER)
    if facts is not None:
        removed |= facts.kinds  # only the block read_exif shows is parsed, never every copy
    return removed


def _kept_kinds(tables: Tables, pictures: set[int], groups: list[Group], gain_maps: bool) -> frozenset[str]:
    kept = {KEPT_KINDS[g.type] for g in groups if g.type != ALTERNATIVES or any(tables.items[e].type != TONE_MAP_ITEM and e != tables.primary for e in g.entities)}
    if gain_maps:
        kept.add(kinds.GAIN_MAP)
    grouped = {e for g in groups for e in g.entities}
    if any(
        not tables.items[i].flags & HIDDEN and i != tables.primary and i not in grouped and tables.items[i].type != TONE_MAP_ITEM
        for i in pictures
    ):
        kept.add(kinds.COLLECTION)
    return frozenset(kept)


def plan(tables: Tables, index: ExtentIndex, keep_copyright: bool) -> Plan:
    graph = _Graph(tables)
    kept, groups = _kept_pictures(tables, graph)
    apple_gain_maps = {i for i in kept if graph.aux_type.get(i) == APPLE_GAIN_MAP_AUX_TYPE}
    gain_map_xmp = [
        i for i in tables.items if is_xmp(tables, i) and any(t in apple_gain_maps for t in graph.describes.get(i, ()))
    ]
    pictures = [i for i in tables.items if i in kept]
    dropped = [i for i in tables.items if i not in kept and i not in gain_map_xmp]
    found = exif_items(tables)
    exif = found[0] if found else None
    facts = _exif_facts(index, exif) if exif is not None else None
    removed = _removed_kinds(tables, graph, dropped, facts)
    entities = {i: tables.items[i].type for i in pictures}
    entities.update({g.id: g.type for g in groups})
    properties, associations = _kept_properties(tables, entities, removed)
    everything = kept | set(gain_map_xmp)
    references = []
    for reference in tables.references:
        if reference.source not in kept or reference.type not in KEPT_REFERENCES:
            continue
        targets = tuple(t for t in reference.targets if t in kept)
        if targets:
            references.append(reference._replace(targets=targets))
    for item_id in gain_map_xmp:
        references.append(Reference(CDSC, item_id, tuple(t for t in graph.describes[item_id] if t in everything)))
    inputs = {i: len(graph.inputs.get(i, ())) for i in pictures}
    exif_payload = None
    if keep_copyright and facts is not None:
        tiff = minimal_exif(facts._replace(orientation=1), True)
        if tiff is not None:
            exif_payload = struct.pack(">I", len(EXIF_HEADER)) + EXIF_HEADER + tiff
            if len(found) == 1 and index.payload(exif, MAX_EXIF_PAYLOAD, "EXIF") == exif_payload:
                removed.discard(kinds.EXIF)  # already the minimal item: a second strip logs nothing
    tone_maps = any(tables.items[i].type == TONE_MAP_ITEM for i in kept)
    return Plan(
        pictures,
        gain_map_xmp,
        dropped,
        properties,
        associations,
        references,
        groups,
        inputs,
        exif,
        exif_payload,
        frozenset(removed),
        _kept_kinds(tables, kept, groups, tone_maps or bool(apple_gain_maps)),
    )
