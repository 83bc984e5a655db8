"""xmp_rendering: a packet reduced to the HDR rendering namespaces, built anew; bounded and never raising."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import pytest

import gain_map_builders as g
from metadata import kinds
from metadata.limits import MAX_XMP_ARRAY_ITEMS, MAX_XMP_PACKET, MAX_XMP_VALUE_CHARS
from metadata.xmp_rendering import primary_xmp, read_rendering, rendering_xmp

SECRET = "SECRET-c0ffee"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
HDRGM = "http://ns.adobe.com/hdr-gain-map/1.0/"
APPLE = "http://ns.apple.com/HDRGainMap/1.0/"
APDI = "http://ns.apple.com/pixeldatainfo/1.0/"
CONTAINER = "http://ns.google.com/photos/1.0/container/"
ITEM = "http://ns.google.com/photos/1.0/container/item/"

# As libultrahdr writes a gain map's packet (attributes, per-channel values as rdf:Seq),
# with what a photo editor adds beside it.
GAIN_MAP_PACKET = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 5.1.2">
 <rdf:RDF xmlns:rdf="{RDF}">
  <rdf:Description rdf:about="" xmlns:hdrgm="{HDRGM}" xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:exif="http://ns.adobe.com/exif/1.0/"
    hdrgm:Version="1.0" hdrgm:Gamma="1" hdrgm:HDRCapacityMin="0" hdrgm:HDRCapacityMax="2.3"
    hdrgm:BaseRenditionIsHDR="False" exif:GPSLatitude="52,31.2N {SECRET}">
   <hdrgm:GainMapMax><rdf:Seq><rdf:li>2.3</rdf:li><rdf:li>2.1</rdf:li><rdf:li>2.0</rdf:li></rdf:Seq></hdrgm:GainMapMax>
   <dc:creator><rdf:Seq><rdf:li>{SECRET}</rdf:li></rdf:Seq></dc:creator>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>""".encode()

PRIMARY_PACKET = f"""<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="{RDF}">
 <rdf:Description xmlns:Container="{CONTAINER}" xmlns:Item="{ITEM}" xmlns:hdrgm="{HDRGM}"
   xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" hdrgm:Version="1.0" photoshop:City="{SECRET}">
  <Container:Directory><rdf:Seq>
   <rdf:li rdf:parseType="Resource"><Container:Item Item:Semantic="Primary" Item:Mime="image/jpeg"/></rdf:li>
   <rdf:li rdf:parseType="Resource"><Container:Item Item:Semantic="GainMap" Item:Mime="image/jpeg" Item:Length="66171"/></rdf:li>
   <rdf:li rdf:parseType="Resource"><Container:Item Item:Semantic="MotionPhoto" Item:Mime="video/mp4" Item:Length="9"/></rdf:li>
  </rdf:Seq></Container:Directory>
 </rdf:Description></rdf:RDF></x:xmpmeta>""".encode()

APPLE_PACKET = f"""<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="{RDF}">
 <rdf:Description rdf:about="" xmlns:HDRGainMap="{APPLE}" xmlns:apdi="{APDI}"
   xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="{SECRET}">
  <HDRGainMap:HDRGainMapVersion>65536</HDRGainMapVersion_placeholder>
 </rdf:Description></rdf:RDF></x:xmpmeta>"""
APPLE_PACKET = APPLE_PACKET.replace("</HDRGainMapVersion_placeholder>", "</HDRGainMap:HDRGainMapVersion>")
APPLE_PACKET = APPLE_PACKET.replace(
    "<HDRGainMap:HDRGainMapVersion>",
    "<apdi:AuxiliaryImageType>urn:com:apple:photo:2020:aux:hdrgainmap</apdi:AuxiliaryImageType>"
    "<HDRGainMap:HDRGainMapHeadroom>1.8</HDRGainMap:HDRGainMapHeadroom><HDRGainMap:HDRGainMapVersion>",
).encode()


_properties = g.xmp_properties


def test_a_gain_map_packet_keeps_its_parameters_and_nothing_else():
    reduced = rendering_xmp(GAIN_MAP_PACKET)
    assert SECRET.encode() not in reduced
    assert _properties(reduced) == {
        f"{{{HDRGM}}}Version": "1.0",
        f"{{{HDRGM}}}Gamma": "1",
        f"{{{HDRGM}}}HDRCapacityMin": "0",
        f"{{{HDRGM}}}HDRCapacityMax": "2.3",
        f"{{{HDRGM}}}BaseRenditionIsHDR": "False",
        f"{{{HDRGM}}}GainMapMax": ["2.3", "2.1", "2.0"],
    }
    assert b"dc:" not in reduced and b"exif:" not in reduced and b"xmptk" not in reduced
    assert rendering_xmp(reduced) == reduced  # idempotent
    assert read_rendering(GAIN_MAP_PACKET).describes_gain_map()


def test_an_apple_gain_map_packet_keeps_its_namespaces():
    reduced = rendering_xmp(APPLE_PACKET)
    assert SECRET.encode() not in reduced
    assert _properties(reduced) == {
        f"{{{APDI}}}AuxiliaryImageType": "urn:com:apple:photo:2020:aux:hdrgainmap",
        f"{{{APPLE}}}HDRGainMapHeadroom": "1.8",
        f"{{{APPLE}}}HDRGainMapVersion": "65536",
    }
    assert read_rendering(APPLE_PACKET).describes_gain_map()


def test_the_primary_packet_keeps_the_version_and_a_directory_with_the_new_length():
    facts = read_rendering(PRIMARY_PACKET)
    assert not facts.describes_gain_map()
    assert facts.gain_map_item().length == 66171
    packet = primary_xmp(facts, 1234)
    assert SECRET.encode() not in packet and b"MotionPhoto" not in packet
    root = ElementTree.fromstring(packet)
    (description,) = root.iter(f"{{{RDF}}}Description")
    assert {key: value for key, value in description.attrib.items() if key != f"{{{RDF}}}about"} == {
        f"{{{HDRGM}}}Version": "1.0"
    }
    items = [dict(item.attrib) for item in root.iter(f"{{{CONTAINER}}}Item")]
    assert items == [
        {f"{{{ITEM}}}Semantic": "Primary", f"{{{ITEM}}}Mime": "image/jpeg"},
        {f"{{{ITEM}}}Semantic": "GainMap", f"{{{ITEM}}}Mime": "image/jpeg", f"{{{ITEM}}}Length": "1234"},
    ]
    assert read_rendering(packet).gain_map_item().length == 1234
    assert primary_xmp(read_rendering(GAIN_MAP_PACKET.replace(b'hdrgm:Version="1.0"', b"")), 5) is None


@pytest.mark.parametrize(
    "packet",
    [
        b"",
        b"not xml at all",
        b"<x:xmpmeta",  # cut short
        b"\xff\xfe<\x00x\x00",  # not UTF-8
        b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><x>&b;</x>',
        b"<a>" * 100_000 + b"</a>" * 100_000,  # deep nesting, no rendering property
        b" " * (MAX_XMP_PACKET + 1),
        PRIMARY_PACKET.replace(b'hdrgm:Version="1.0"', b""),  # no rendering property at all
    ],
    ids=["empty", "text", "cut", "utf16", "entities", "deep", "oversized", "none-kept"],
)
def test_unreadable_or_empty_packets_give_none(packet):
    assert rendering_xmp(packet) is None


def test_a_hostile_value_is_escaped_and_an_oversized_one_dropped():
    packet = GAIN_MAP_PACKET.replace(b'hdrgm:Gamma="1"', b'hdrgm:Gamma="1&quot;/&gt;&lt;dc:x&gt;"').replace(
        b'hdrgm:HDRCapacityMin="0"', b'hdrgm:HDRCapacityMin="' + b"9" * 1000 + b'"'
    )
    reduced = rendering_xmp(packet)
    properties = _properties(reduced)
    assert properties[f"{{{HDRGM}}}Gamma"] == '1"/><dc:x>'
    assert f"{{{HDRGM}}}HDRCapacityMin" not in properties


def test_kept_kinds_are_the_agreed_names():
    assert kinds.ALL_KEPT == {"gain map", "alternate", "collection", "stereo pair", "pyramid level"}
    assert kinds.Stripped(b"", frozenset()).kept == frozenset()


# --- the reading bounds, at and one past each (metadata/limits.py) --------------------------


def _gamma_packet(value: str) -> bytes:
    return GAIN_MAP_PACKET.replace(b'hdrgm:Gamma="1"', f'hdrgm:Gamma="{value}"'.encode())


def _gain_map_max_packet(items: int) -> bytes:
    seq = "".join(f"<rdf:li>{i}</rdf:li>" for i in range(items))
    return GAIN_MAP_PACKET.replace(
        b"<rdf:li>2.3</rdf:li><rdf:li>2.1</rdf:li><rdf:li>2.0</rdf:li>", seq.encode()
    )


def _directory_packet(entries: int) -> bytes:
    entry = '<rdf:li rdf:parseType="Resource"><Container:Item Item:Semantic="Primary" Item:Mime="image/jpeg"/></rdf:li>'
    start = PRIMARY_PACKET.index(b"<rdf:Seq>") + len(b"<rdf:Seq>")
    end = PRIMARY_PACKET.index(b"</rdf:Seq>")
    return PRIMARY_PACKET[:start] + (entry * entries).encode() + PRIMARY_PACKET[end:]


def test_a_value_of_max_xmp_value_chars_is_kept_and_one_longer_dropped():
    at = "9" * MAX_XMP_VALUE_CHARS
    assert _properties(rendering_xmp(_gamma_packet(at)))[f"{{{HDRGM}}}Gamma"] == at
    assert f"{{{HDRGM}}}Gamma" not in _properties(rendering_xmp(_gamma_packet(at + "9")))


def test_an_element_value_of_max_xmp_value_chars_is_kept_and_one_longer_dropped():
    def packet(value: str) -> bytes:
        return APPLE_PACKET.replace(b">1.8<", f">{value}<".encode())

    at = "1" * MAX_XMP_VALUE_CHARS
    assert _properties(rendering_xmp(packet(at)))[f"{{{APPLE}}}HDRGainMapHeadroom"] == at
    assert f"{{{APPLE}}}HDRGainMapHeadroom" not in _properties(rendering_xmp(packet(at + "1")))


def test_an_array_of_max_xmp_array_items_is_kept_and_one_longer_dropped():
    at = _properties(rendering_xmp(_gain_map_max_packet(MAX_XMP_ARRAY_ITEMS)))
    assert at[f"{{{HDRGM}}}GainMapMax"] == [str(i) for i in range(MAX_XMP_ARRAY_ITEMS)]
    past = _properties(rendering_xmp(_gain_map_max_packet(MAX_XMP_ARRAY_ITEMS + 1)))
    assert f"{{{HDRGM}}}GainMapMax" not in past
    assert past[f"{{{HDRGM}}}Version"] == "1.0"  # the rest of the packet is still read


def test_a_directory_of_max_xmp_array_items_is_read_and_one_longer_ignored():
    assert len(read_rendering(_directory_packet(MAX_XMP_ARRAY_ITEMS)).directory) == MAX_XMP_ARRAY_ITEMS
    past = read_rendering(_directory_packet(MAX_XMP_ARRAY_ITEMS + 1))
    assert past.directory == ()
    assert past.properties  # hdrgm:Version still read


def test_a_packet_of_max_xmp_packet_bytes_is_read_and_one_byte_longer_dropped():
    at = GAIN_MAP_PACKET + b" " * (MAX_XMP_PACKET - len(GAIN_MAP_PACKET))
    assert len(at) == MAX_XMP_PACKET
    assert _properties(rendering_xmp(at))[f"{{{HDRGM}}}Version"] == "1.0"
    assert read_rendering(at + b" ") is None
    assert rendering_xmp(at + b" ") is None
