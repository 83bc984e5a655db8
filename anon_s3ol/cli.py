"""anon-s3ol: see your photos as the deployed service would serve them, before you deploy.

    strip       write the bytes a viewer would get, under the same file names
    show        print the JSON that ?showExif=true answers
    audit       one row per image under a folder or an S3 prefix, then a summary
    serve       the function URL's paths and replies on 127.0.0.1
    invalidate  clear deleted or replaced photos from CloudFront's cache

Exit codes: 0 done; 1 a file was refused (strip), a task could not audit its object
(audit --batch) or the command failed (one line on stderr says why); 2 usage; 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable

from .errors import CommandError

PROG = "anon-s3ol"
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
DEFAULT_PORT = 8080
DEFAULT_WORKERS = 8
MAX_WORKERS = 64
DEFAULT_PREFIX = "anon-s3ol"


def _positive(maximum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if not 0 < value <= maximum:
            msg = f"expected a whole number from 1 to {maximum}, got {text!r}"
            raise argparse.ArgumentTypeError(msg)
        return value

    return parse


def _add_keep_copyright(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keep-copyright", action="store_true", help="keep the EXIF Copyright and Artist tags (KeepCopyright=true)"
    )


def _add_aws_options(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, *, region_help: str, region_required: bool = False
) -> None:
    parser.add_argument("--region", required=region_required, help=region_help)
    parser.add_argument("--profile", help="the AWS profile to use")


def _add_prefix(parser: argparse.ArgumentParser | argparse._ArgumentGroup, *, names: str) -> None:
    """--prefix NAME, the stacks' name prefix (deploy.sh --prefix); `names` says which stack it names."""
    parser.add_argument(
        "--prefix",
        default=DEFAULT_PREFIX,
        metavar="NAME",
        help=f"the stacks' name prefix{names} (default {DEFAULT_PREFIX})",
    )


def _add_strip(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "strip",
        help="write the bytes a viewer would get",
        description="Strip each image's metadata as the deployed service does and write the result "
        "under the same file name in DIR. Prints one line per file: its format, the kinds of metadata "
        "removed (and pictures kept), bytes in and out, or why it is refused. Exit status 1 if any file "
        "is refused. Never overwrites an input.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="image files")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the stripped files (created if missing)")
    _add_keep_copyright(parser)
    parser.set_defaults(run=_run_strip)


def _add_show(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "show",
        help="print the JSON ?showExif=true answers",
        description="Print exactly the JSON that GET /KEY?showExif=true answers for this image.",
    )
    parser.add_argument("path", metavar="PATH", help="an image file")
    parser.add_argument(
        "--view",
        choices=("safe", "full"),
        default="safe",
        help="safe: technical fields only, the default (ExifQuery=safe); full: every field, GPS included (ExifQuery=full)",
    )
    _add_keep_copyright(parser)
    parser.set_defaults(run=_run_show)


def _add_audit(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "audit",
        help="which images carry what, and which would be refused",
        description="Read every file under a folder or an S3 prefix and report, one row each: key, format, "
        "served or refused (and why), the kinds of metadata found (GPS, serials/owner, XMP, IPTC, "
        "thumbnails, C2PA, ...), pictures kept (gain maps), bytes; then a summary. Files are read "
        "concurrently; rows are written as they come. Nothing is written anywhere else.",
    )
    parser.add_argument("source", metavar="PATH|s3://BUCKET[/PREFIX]", help="a folder, a file, or an S3 bucket and prefix")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    output.add_argument("--csv", metavar="FILE", help="write the rows as CSV to FILE (the summary still goes to stdout)")
    parser.add_argument(
        "--workers",
        type=_positive(MAX_WORKERS),
        default=DEFAULT_WORKERS,
        metavar="N",
        help=f"files read at once (default {DEFAULT_WORKERS}, at most {MAX_WORKERS})",
    )
    batch = parser.add_argument_group(
        "at any scale (S3 Batch Operations)",
        "--batch audits s3://BUCKET[/PREFIX] with an S3 Batch Operations job that invokes the audit function of the "
        "stack NAME-audit (--prefix NAME; templates/audit.json, deployed first: see the README's \"Audit a whole "
        "bucket\"), prints its progress, then the summary from its completion report in the artifact bucket.",
    )
    batch.add_argument("--batch", action="store_true", help="run the audit as an S3 Batch Operations job")
    _add_aws_options(batch, region_help="the region of the bucket and the audit stack (default: the profile's)")
    _add_prefix(batch, names=": the audit stack is NAME-audit")
    batch.add_argument(
        "--inventory",
        metavar="s3://BUCKET/.../manifest.json",
        help="use this S3 Inventory report (CSV) as the job's manifest instead of listing the bucket",
    )
    batch.add_argument(
        "--wait",
        type=_positive(24 * 60),
        default=60,
        metavar="MINUTES",
        help="how long to follow the job (default 60); it goes on after that",
    )
    parser.set_defaults(run=_run_audit)


def _add_serve(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "serve",
        help="serve a folder or bucket on 127.0.0.1 as the function URL does",
        description="A local HTTP server on 127.0.0.1 with the deployed function URL's paths and replies: "
        "GET and HEAD /KEY answer the stripped image, ?showExif=true its EXIF as JSON, Range a part; a "
        "missing object is 404. Nothing outside DIR (or the prefix) is ever served. Ctrl-C stops it.",
    )
    parser.add_argument("source", metavar="DIR|s3://BUCKET[/PREFIX]", help="a folder, or an S3 bucket and prefix")
    parser.add_argument("--port", type=_positive(65535), default=DEFAULT_PORT, metavar="N", help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--view", choices=("safe", "full", "off"), default="safe", help="what ?showExif=true answers (ExifQuery)")
    _add_keep_copyright(parser)
    parser.set_defaults(run=_run_serve)


def _add_invalidate(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "invalidate",
        help="clear deleted or replaced photos from CloudFront's cache",
        description="CloudFront keeps a served photo for up to a day. After deleting or replacing one, "
        "this asks the deployed distribution (found in the stack's outputs) to forget it, and prints "
        "the invalidation's ID.",
    )
    parser.add_argument("keys", nargs="+", metavar="KEY", help="object keys as in the URL path, e.g. photos/cat.jpg or 'photos/*'")
    _add_aws_options(parser, region_help="the region the stacks were deployed to", region_required=True)
    _add_prefix(parser, names=" given to deploy.sh")
    parser.set_defaults(run=_run_invalidate)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=__doc__.split("\n\n")[0],
        epilog="Run 'anon-s3ol COMMAND --help' for a command's options. " + __doc__.split("\n\n")[-1].strip(),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_add_strip, _add_show, _add_audit, _add_serve, _add_invalidate):
        add(commands)
    return parser


# Each command's module is imported only when it runs: --help needs none of them.
def _run_strip(args: argparse.Namespace) -> int:
    from .strip_files import strip_files

    return strip_files(args.paths, args.out, keep_copyright=args.keep_copyright, out_stream=sys.stdout)


def _run_show(args: argparse.Namespace) -> int:
    from .show_exif import show_exif

    return show_exif(args.path, view=args.view, keep_copyright=args.keep_copyright, out_stream=sys.stdout.buffer)


def _run_audit(args: argparse.Namespace) -> int:
    if args.batch:
        return _run_batch_audit(args)
    from .audit import run_audit

    return run_audit(args.source, as_json=args.json, csv_path=args.csv, workers=args.workers, out=sys.stdout, err=sys.stderr)


def _run_batch_audit(args: argparse.Namespace) -> int:
    from .batch_audit import run_batch_audit
    from .s3_access import is_s3, parse_location

    if args.json or args.csv:
        msg = "--batch prints a summary; each object's row is in the job's completion report (its path is printed)"
        raise CommandError(msg)
    if not is_s3(args.source):
        msg = f"{args.source}: --batch's source must be an s3://BUCKET[/PREFIX] address"
        raise CommandError(msg)
    # The prefix as the local audit reads it: s3://BUCKET/photos is the folder photos/.
    location = parse_location(args.source)
    return run_batch_audit(
        location.bucket,
        location.prefix,
        region=args.region,
        profile=args.profile,
        out=sys.stdout,
        err=sys.stderr,
        stack_prefix=args.prefix,
        inventory=args.inventory,
        wait_seconds=args.wait * 60,
    )


def _run_serve(args: argparse.Namespace) -> int:
    from .local_server import run_server

    return run_server(args.source, port=args.port, view=args.view, keep_copyright=args.keep_copyright, err=sys.stderr)


def _run_invalidate(args: argparse.Namespace) -> int:
    from .invalidate import invalidate

    return invalidate(args.keys, region=args.region, prefix=args.prefix, profile=args.profile, out=sys.stdout)


def _quiet_stdout() -> None:
    """After the reader of stdout left (| head): no second BrokenPipeError when Python flushes at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except CommandError as error:
        print(f"{PROG} {args.command}: {error}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _quiet_stdout()
    except Exception as error:  # noqa: BLE001 - a bug still gets one line, never a traceback
        print(f"{PROG} {args.command}: unexpected error: {type(error).__name__}: {error}", file=sys.stderr)
    return EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
