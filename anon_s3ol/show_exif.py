"""`anon-s3ol show`: print exactly the JSON that `GET /KEY?showExif=true` answers for a file.

The JSON comes from serving.pipeline.render_exif_json, the function the Lambdas call, with
the view and KeepCopyright given; a newline follows it. A file the service would refuse
is an error naming why.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import metadata
from serving.pipeline import render_exif_json
from serving.reply import one_line
from serving.settings import DEFAULT_MAX_INPUT_BYTES, Settings

from .errors import CommandError
from .sources import Unreadable, read_file


def show_exif(path: str, *, view: str, keep_copyright: bool, out_stream: BinaryIO) -> int:
    settings = Settings(exif_query=view, keep_copyright=keep_copyright, max_input_bytes=DEFAULT_MAX_INPUT_BYTES)
    try:
        body = render_exif_json(read_file(Path(path), settings.max_input_bytes), settings)
    except (Unreadable, metadata.ImageError) as error:
        raise CommandError(f"{path}: refused: {one_line(str(error))}") from None
    out_stream.write(body + b"\n")
    out_stream.flush()
    return 0
