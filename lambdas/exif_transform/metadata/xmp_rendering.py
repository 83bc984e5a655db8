"""XMP reduced to what an HDR screen needs to render a gain map, and nothing else.

A gain-map image is described by XMP properties in three namespaces:

    hdrgm       http://ns.adobe.com/hdr-gain-map/1.0/    Adobe's gain map spec 1.0, used by
                Google's Ultra HDR (Version, GainMapMin/Max, Gamma, OffsetSDR/HDR,
                HDRCapacityMin/Max, BaseRenditionIsHDR; per-channel values as rdf:Seq)
    HDRGainMap  http://ns.apple.com/HDRGainMap/1.0/     Apple (HDRGainMapVersion, HDRGainMapHeadroom)
    apdi        http://ns.apple.com/pixeldatainfo/1.0/  Apple (AuxiliaryImageType: the
                gain map's URN urn:com:apple:photo:2020:aux:hdrgainmap; stored formats)

and an Ultra HDR primary lists its images in a GContainer directory (Ultra HDR Image
Format v1, "XMP metadata of the primary image"; namespaces Container = .../container/,
Item = .../container/item/):

    <Container:Directory><rdf:Seq>
      <rdf:li rdf:parseType="Resource">
        <Container:Item Item:Semantic="Primary" Item:Mime="image/jpeg"/></rdf:li>
      <rdf:li rdf:parseType="Resource">
        <Container:Item Item:Semantic="GainMap" Item:Mime="image/jpeg" Item:Length="66171"/></rdf:li>
    </rdf:Seq></Container:Directory>

Nothing of the input packet is copied: its properties are read into plain values and a
new packet is written from them, so creator, history, location and any other
namespace cannot survive. Reading is bounded (MAX_XMP_PACKET, no DTD, so no entity
expansion) and never raises: a packet that is too large or not well-formed XML reads
as nothing, and is then dropped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from typing import NamedTuple
from xml.sax.saxutils import escape, quoteattr

from .limits import MAX_XMP_ARRAY_ITEMS, MAX_XMP_PACKET, MAX_XMP_VALUE_CHARS

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
X_META = "adobe:ns:meta/"
HDRGM = "http://ns.adobe.com/hdr-gain-map/1.0/"
APPLE_GAIN_MAP = "http://ns.apple.com/HDRGainMap/1.0/"
APDI = "http://ns.apple.com/pixeldatainfo/1.0/"
CONTAINER = "http://ns.google.com/photos/1.0/container/"
ITEM = "http://ns.google.com/photos/1.0/container/item/"

# The namespaces kept, in the order they are written, with their usual prefixes.
RENDERING_PREFIXES = {HDRGM: "hdrgm", APPLE_GAIN_MAP: "HDRGainMap", APDI: "apdi"}
PREFIXES = {RDF: "rdf", X_META: "x", **RENDERING_PREFIXES, CONTAINER: "Container", ITEM: "Item"}

APPLE_GAIN_MAP_URN = "urn:com:apple:photo:2020:aux:hdrgainmap"
PRIMARY_SEMANTIC = "Primary"
GAIN_MAP_SEMANTIC = "GainMap"
JPEG_MIME = "image/jpeg"
ARRAY_KINDS = ("Seq", "Bag", "Alt")
# XML forbids these in a packet we parse: a DTD is where entities (and their expansion) live.
FORBIDDEN_DECLARATIONS = ("<!DOCTYPE", "<!ENTITY")


class Property(NamedTuple):
    namespace: str
    name: str
    value: str | tuple[str, ...]  # a simple value, or the items of an array
    array: str = ""  # "" for a simple value, else "Seq", "Bag" or "Alt"


class ContainerItem(NamedTuple):
    semantic: str
    mime: str
    length: int | None  # Item:Length, None when absent or not a number


class RenderingFacts(NamedTuple):
    properties: tuple[Property, ...]  # in the rendering namespaces, first occurrence of each
    directory: tuple[ContainerItem, ...]  # the GContainer directory, in order

    def value(self, namespace: str, name: str) -> str | tuple[str, ...] | None:
        for found in self.properties:
            if (found.namespace, found.name) == (namespace, name):
                return found.value
        return None

    def describes_gain_map(self) -> bool:
        """Whether these are a gain-map image's own properties (not the primary's)."""
        if self.value(APDI, "AuxiliaryImageType") == APPLE_GAIN_MAP_URN:
            return True
        if self.value(APPLE_GAIN_MAP, "HDRGainMapVersion") is not None:
            return True
        # The primary carries hdrgm:Version alone; a gain map carries its parameters.
        return any(found.namespace == HDRGM and found.name != "Version" for found in self.properties)

    def gain_map_item(self) -> ContainerItem | None:
        for item in self.directory:
            if item.semantic == GAIN_MAP_SEMANTIC:
                return item
        return None


# --- reading -----------------------------------------------------------------------------


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def _simple_text(element: ElementTree.Element) -> str | None:
    if len(element) or element.text is None:
        return None
    text = element.text.strip()
    return text if len(text) <= MAX_XMP_VALUE_CHARS else None


def _property_value(element: ElementTree.Element) -> tuple[str | tuple[str, ...], str] | None:
    """A property element's value: simple text, or an array of simple items; else None."""
    if not len(element):
        text = _simple_text(element)
        return None if text is None else (text, "")
    if len(element) != 1:
        return None
    namespace, kind = _split(element[0].tag)
    items = list(element[0])
    if namespace != RDF or kind not in ARRAY_KINDS or len(items) > MAX_XMP_ARRAY_ITEMS:
        return None
    values = []
    for item in items:
        text = _simple_text(item)
        if item.tag != f"{{{RDF}}}li" or text is None:
            return None
        values.append(text)
    return tuple(values), kind


def _item_fields(element: ElementTree.Element) -> dict[str, str]:
    """Item:* fields of one directory entry, as attributes or as simple child elements."""
    fields: dict[str, str] = {}
    for node in (element, *list(element)[:MAX_XMP_ARRAY_ITEMS]):
        for key, value in node.attrib.items():
            namespace, name = _split(key)
            if namespace == ITEM and len(value) <= MAX_XMP_VALUE_CHARS:
                fields.setdefault(name, value.strip())
        namespace, name = _split(node.tag)
        text = _simple_text(node) if node is not element else None
        if namespace == ITEM and text is not None:
            fields.setdefault(name, text)
    return fields


def _directory(element: ElementTree.Element) -> tuple[ContainerItem, ...]:
    if len(element) != 1 or element[0].tag != f"{{{RDF}}}Seq" or len(element[0]) > MAX_XMP_ARRAY_ITEMS:
        return ()
    items = []
    for entry in element[0]:
        fields = _item_fields(entry)
        for child in list(entry)[:MAX_XMP_ARRAY_ITEMS]:
            if child.tag == f"{{{CONTAINER}}}Item":
                fields = {**_item_fields(child), **fields}
        length = fields.get("Length", "")
        items.append(
            ContainerItem(
                fields.get("Semantic", ""),
                fields.get("Mime", ""),
                int(length) if length.isascii() and length.isdigit() and len(length) <= 12 else None,
            )
        )
    return tuple(items)


def _descriptions(root: ElementTree.Element) -> list[ElementTree.Element]:
    rdf = root if root.tag == f"{{{RDF}}}RDF" else root.find(f"{{{RDF}}}RDF")
    if rdf is None:
        return []
    return [child for child in rdf if child.tag == f"{{{RDF}}}Description"]


def _parse(packet: bytes) -> ElementTree.Element | None:
    if len(packet) > MAX_XMP_PACKET:
        return None
    try:
        text = bytes(packet).decode("utf-8").strip("\x00 \t\r\n\ufeff")
    except UnicodeDecodeError:
        return None
    if any(declaration in text for declaration in FORBIDDEN_DECLARATIONS):
        return None
    try:
        return ElementTree.fromstring(text)
    except (ElementTree.ParseError, ValueError, LookupError):
        return None


def read_rendering(packet: bytes) -> RenderingFacts | None:
    """The rendering properties and GContainer directory of a packet; None when it is
    too large or not well-formed XMP."""
    root = _parse(packet)
    if root is None:
        return None
    properties: dict[tuple[str, str], Property] = {}
    directory: tuple[ContainerItem, ...] = ()
    for description in _descriptions(root):
        for key, value in description.attrib.items():
            namespace, name = _split(key)
            if namespace in RENDERING_PREFIXES and len(value) <= MAX_XMP_VALUE_CHARS:
                properties.setdefault((namespace, name), Property(namespace, name, value.strip()))
        for child in description:
            namespace, name = _split(child.tag)
            if namespace in RENDERING_PREFIXES:
                found = _property_value(child)
                if found is not None:
                    properties.setdefault((namespace, name), Property(namespace, name, *found))
            elif (namespace, name) == (CONTAINER, "Directory") and not directory:
                directory = _directory(child)
    return RenderingFacts(tuple(properties.values()), directory)


# --- writing -----------------------------------------------------------------------------


def _packet(properties: tuple[Property, ...], directory: tuple[ContainerItem, ...] = ()) -> bytes:
    namespaces = [namespace for namespace in RENDERING_PREFIXES if any(p.namespace == namespace for p in properties)]
    if directory:
        namespaces += [CONTAINER, ITEM]
    declarations = "".join(f" xmlns:{PREFIXES[namespace]}={quoteattr(namespace)}" for namespace in namespaces)
    attributes = "".join(
        f" {PREFIXES[p.namespace]}:{p.name}={quoteattr(p.value)}" for p in properties if not p.array
    )
    children = []
    for p in properties:
        if p.array:
            name = f"{PREFIXES[p.namespace]}:{p.name}"
            items = "".join(f"<rdf:li>{escape(value)}</rdf:li>" for value in p.value)
            children.append(f"<{name}><rdf:{p.array}>{items}</rdf:{p.array}></{name}>")
    if directory:
        entries = []
        for item in directory:
            length = "" if item.length is None else f" Item:Length={quoteattr(str(item.length))}"
            entries.append(
                '<rdf:li rdf:parseType="Resource">'
                f"<Container:Item Item:Semantic={quoteattr(item.semantic)} Item:Mime={quoteattr(item.mime)}{length}/>"
                "</rdf:li>"
            )
        children.append(f"<Container:Directory><rdf:Seq>{''.join(entries)}</rdf:Seq></Container:Directory>")
    description = f'<rdf:Description rdf:about=""{declarations}{attributes}'
    description += f">{''.join(children)}</rdf:Description>" if children else "/>"
    return (
        f'<x:xmpmeta xmlns:x="{X_META}"><rdf:RDF xmlns:rdf="{RDF}">{description}</rdf:RDF></x:xmpmeta>'
    ).encode()


def rendering_xmp(packet: bytes) -> bytes | None:
    """A new, minimal packet holding only the packet's hdrgm, HDRGainMap and apdi
    properties; None when it has none (or cannot be read)."""
    facts = read_rendering(packet)
    if facts is None or not facts.properties:
        return None
    return _packet(facts.properties)


def primary_xmp(facts: RenderingFacts, gain_map_length: int, gain_map_mime: str = JPEG_MIME) -> bytes | None:
    """The Ultra HDR primary's packet: hdrgm:Version and a GContainer directory of the
    primary and its gain map, `gain_map_length` bytes long; None without hdrgm:Version."""
    version = facts.value(HDRGM, "Version")
    if not isinstance(version, str):
        return None
    directory = (
        ContainerItem(PRIMARY_SEMANTIC, JPEG_MIME, None),
        ContainerItem(GAIN_MAP_SEMANTIC, gain_map_mime, gain_map_length),
    )
    return _packet((Property(HDRGM, "Version", version),), directory)
