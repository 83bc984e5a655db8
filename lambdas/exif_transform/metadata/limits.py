"""Limits that keep the work for one image bounded in time and memory.

Checked against the sizes an image declares in its headers, before anything is
decoded or allocated, so a hostile file fails fast with ImageError.
"""

# Pixels an image (or one of its frames) may declare. A 150-megapixel medium-format
# photo passes; a 65535 x 65535 JPEG or a PNG "bomb" with a tiny IDAT does not.
MAX_PIXELS = 250_000_000

# Pixels the TIFF path may decode through Pillow, summed over the pages kept: at four
# bytes a pixel this stays well inside the function's default 512 MB of memory.
MAX_DECODED_PIXELS = 40_000_000

# Pixels the GIF path may decode (to find where each frame's data ends), summed over
# the frames: a few seconds of Pillow's C decoder at most.
MAX_GIF_DECODED_PIXELS = 500_000_000

# Entries in one TIFF/EXIF IFD (real files use well under a few hundred).
MAX_IFD_ENTRIES = 2048

# Pages in one TIFF file.
MAX_TIFF_PAGES = 256

# Longest sequence read_exif renders as a JSON list; longer ones are structural arrays
# (strip offsets and the like) that say nothing about the photo.
MAX_JSON_SEQUENCE = 1024

# Longest Copyright or Artist value carried into the minimal EXIF block.
MAX_KEPT_TEXT = 8192

# Largest ICC profile kept (a JPEG can carry 255 APP2 chunks of 65,519 bytes, about 16 MB);
# a PNG iCCP profile is inflated to this size at most.
MAX_ICC_PROFILE_BYTES = 16 * 1024 * 1024

# read_exif's output: characters of one text value, and bytes of the whole JSON document
# (as json.dumps writes it with ensure_ascii=True, the longer of its two spellings).
MAX_JSON_TEXT = 256
MAX_JSON_DOCUMENT = 64 * 1024

# EXIF that ImageMagick writes into PNG text chunks ("Raw profile type exif", hex
# digits): the text read (inflated, for zTXt and compressed iTXt) stops at this size.
MAX_RAW_PROFILE_TEXT = 4 * 1024 * 1024

# A re-saved TIFF may be this many times its input plus a constant (lossless JPEG-in-TIFF
# pages become Deflate, several times larger); anything beyond is refused, not served.
MAX_TIFF_GROWTH = 16
TIFF_GROWTH_ALLOWANCE = 1024 * 1024

# ISOBMFF (HEIF, AVIF, JPEG XL container): boxes walked in one file, at every level, and
# how deep they may nest (a HEIF property sits at depth 4: meta, iprp, ipco, property).
MAX_BOXES = 100_000
MAX_BOX_DEPTH = 8

# HEIF items, item references (target IDs summed over every iref box) and extents per
# item: libheif's default security limits (heif_security_limits: 1000 items, 32 extents).
MAX_ITEMS = 1000
MAX_ITEM_REFERENCES = 10_000
MAX_EXTENTS_PER_ITEM = 32

# Largest EXIF payload read_exif gathers from HEIF extents (EXIF in JPEG stops at 64 KB).
MAX_EXIF_PAYLOAD = 4 * 1024 * 1024

# XMP packets read for their HDR rendering properties (xmp_rendering.py): a JPEG APP1
# holds at most 65,502 bytes of XMP and the gain-map packets Google's libultrahdr and
# Apple write are under 2 KB, so larger packets are dropped unread. A kept value is a
# number, a boolean or a URN; an array holds one value per colour channel, and a
# GContainer directory lists the primary, the gain map and perhaps a video.
MAX_XMP_PACKET = 1024 * 1024
MAX_XMP_VALUE_CHARS = 256
MAX_XMP_ARRAY_ITEMS = 16

# Images one JPEG MPF index may list. An Ultra HDR or Apple HDR JPEG lists 2, a camera's
# MPO a primary, a preview or two and perhaps a stereo partner; a longer list is read
# as malformed (the index and every image after the primary are dropped).
MAX_MPF_IMAGES = 64

# MPF entries of a JPEG tried as its gain map (each is stripped as a JPEG to find out):
# Ultra HDR and Apple files have exactly one candidate; the cap bounds a hostile index.
MAX_GAIN_MAP_TRIES = 4

# Largest gain map kept: a streamed JPEG's gain map is read and stripped whole before the
# primary's first byte (its stripped size goes into the MPF index). Gain maps are at most
# the primary's resolution and usually a quarter of it in each dimension (libultrahdr's
# default scale factor), well under 1 MB for a phone photo; a larger one is dropped.
MAX_GAIN_MAP_BYTES = 32 * 1024 * 1024

# What a streamed strip holds at once besides its output chunk: the head of a JPEG (every
# segment before the first scan: an ICC profile of up to MAX_ICC_PROFILE_BYTES, the EXIF,
# XMP, MPF and Photoshop segments) is held until the first scan begins, so the minimal
# EXIF block and the ICC profile can be written back into it. A head over this is refused.
# The same bound holds a PNG's head (every chunk before the first IDAT), any other PNG chunk
# held whole, a PNG IDAT's bytes after its deflate stream's end (until its CRC), and a JPEG
# XL Exif box read for the minimal one.
MAX_STREAM_HEAD_BYTES = 32 * 1024 * 1024

# A streamed PNG's IDAT chunk is held until its CRC vouches for it, so a damaged one whose
# length swallowed the chunks after it is never written; the image data is then inflated
# only for a damaged IDAT (formats/png.py). libpng writes IDAT chunks of 8 KiB by default,
# Pillow of 64 KiB; a longer one passes through as it comes, and from then on the image
# data is inflated as it passes (about 1.5 s of CPU for 300 MB inflated).
MAX_HELD_IDAT = 4 * 1024 * 1024

# NAL units (HEVC) or OBUs (AV1) in one HEIF/AVIF image item's payload. A picture needs far
# fewer: AV1 allows at most 64 x 64 = 4096 tiles in a frame (AV1 spec, section 3:
# MAX_TILE_COLS, MAX_TILE_ROWS), so at most 4096 tile groups; H.265 at most 600 slice segments
# in a picture (Table A.8, level 6.2); the rest are parameter sets, headers and a few metadata
# units. Each unit costs a few microseconds of Python, so this also bounds the time per item.
MAX_CODED_UNITS = 8192

# JPEG XL codestreams, walked to find where the last frame ends (formats/jxl_codestream.py):
# frames in one codestream (a minute of animation at 30 frames a second is 1,800; a frame
# header costs about 30 microseconds in Python, so the cap costs half a second), and
# bytes of the entropy-coded ICC profile stream, decoded symbol by symbol at about 2.5
# microseconds a byte (display and camera profiles take well under 10 KB, the CMYK print
# profile of libjxl's conformance file cmyk_layers 557 KB; libjxl allows 256 MB). A frame's
# TOC entries need no limit of their own: MAX_PIXELS bounds them (a 250-megapixel frame in
# 128-pixel groups with 11 passes has about 170,000).
MAX_JXL_FRAMES = 16_384
MAX_JXL_ICC_STREAM = 1 << 20

# A streamed HEIF/AVIF is planned before its first byte from ranged reads (formats/heif/
# reading.py, payloads.py): its top-level box headers (windows of 64 KB; ftyp, meta and mdat
# need one or two), its meta box read whole (hvcC, ICC profiles, idat: a phone photo's is
# 2-100 KB; a larger one is refused), and the kept item data small enough to check there:
# blocks of at most MAX_HEIF_CHECKED_AHEAD bytes (descriptors, phone tiles of 50-300 KB), at
# most MAX_HEIF_READ_AHEAD of them in all, read in coalesced pieces (a few round trips) and
# checked whole, so a payload cleaned smaller is sized before the meta box is written. Every
# other kept block streams through and must pass its check unchanged (HEVC and AV1 framing
# checked as it arrives; the stream is cut otherwise).
MAX_HEIF_HEADER_READS = 256
MAX_HEIF_META_BYTES = 32 * 1024 * 1024
MAX_HEIF_CHECKED_AHEAD = 256 * 1024
MAX_HEIF_READ_AHEAD = 16 * 1024 * 1024

# A streamed WebP reads its chunk headers (and its VP8X, ICCP and EXIF payloads) before its
# first byte (formats/webp.py): the RIFF size and VP8X flags depend on every chunk kept.
# Windows of 64 KB hold many small chunks; an animation of large frames needs a read or
# two per frame. The ICC profile and EXIF read that way are held, within the second cap.
MAX_WEBP_HEADER_READS = 4096
MAX_WEBP_READ_AHEAD = 32 * 1024 * 1024
