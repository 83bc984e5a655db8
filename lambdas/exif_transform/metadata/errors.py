"""The one exception the transform's core raises for input it will not process."""


class ImageError(ValueError):
    """The bytes are not a well-formed image of a supported format.

    Raised for unsupported formats, truncated or corrupt files, hostile structures
    (decompression bombs, looping IFDs, lengths that run past the end) and for
    anything the core cannot prove it stripped completely: the transform fails
    closed rather than hand out bytes that might still carry metadata.
    """
