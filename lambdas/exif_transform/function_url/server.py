"""Function-URL entry point with streamed responses: a small HTTP server over the same pipeline.

With StreamingResponses=true the function's handler is run.sh, which starts this server;
Lambda Web Adapter (a layer) turns each function-URL event into an HTTP request to it on
127.0.0.1 and streams the response back (InvokeMode RESPONSE_STREAM). Paths and replies
are those of the buffered handler (serve.serve), but a GET is answered as the original
arrives (serving/streamed.py): the original is read from S3 a chunk at a time and the
stripped bytes are written as chunked transfer coding as they are produced. A failure
after the first byte closes the connection without the last chunk, so the adapter, the
function URL and CloudFront see a response cut short, never a complete image. A HEAD
strips the whole image the same way, counting, to send the GET's Content-Length.

Standard library only. Lambda sends one request at a time per execution environment;
the server still gives each connection a thread, so a keep-alive connection the adapter
leaves idle never blocks the next one. Its only output is one JSON log line per request.

Exit codes: 0 stopped; 1 a setting is missing or invalid (the message names it); 2 usage.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Mapping

from aws_lambda_powertools import Logger

from serving.errors import ALLOWED_METHODS
from serving.request_log import log_request
from serving.settings import Settings, SettingsError, load_settings

from serving.pipeline import Outcome, failed
from serving.streamed import OutputLimit, Source, StreamCut, Streamed, respond_streamed

from .bucket_read import READ_TIMEOUTS, bucket_name, bucket_opener, bucket_reader, s3_client
from .payload_limits import STREAMED_LIMIT
from .render import HttpResponse, render_http
from .request import UrlRequest, from_http, request_id_from_adapter
from .serve import ReadOriginal, Served, log_key, serve

PROG = "function_url.server"
DEFAULT_HOST = "127.0.0.1"  # the adapter connects over loopback; nothing else should
DEFAULT_PORT = 8080  # Lambda Web Adapter's default traffic port
# The adapter reads its port from AWS_LWA_PORT, then PORT; the server listens where it looks.
PORT_VARIABLES = ("AWS_LWA_PORT", "PORT")
WRITE_CHUNK_BYTES = 256 * 1024


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: UrlServer

    def __getattr__(self, name: str):  # noqa: ANN204
        # http.server dispatches to do_<METHOD>: every method takes the same path through serve(),
        # which serves GET and HEAD and answers anything else with 405.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Silence http.server's access lines on stderr: the JSON line says it all."""

    def _serve(self) -> None:
        started = time.perf_counter()
        raw_path, _, raw_query = self.path.partition("?")
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = from_http(self.command, raw_path, raw_query, headers, request_id_from_adapter(headers))
        streamed = self.server.serve_streamed(request)
        if isinstance(streamed, Streamed):
            outcome, write_error = self._send_streamed(streamed, head=request.method == "HEAD")
        else:
            served = self.server.serve(request) if streamed is None else streamed
            outcome = served.outcome
            write_error = self._send(
                served.response,
                with_body=request.method != "HEAD",
                # Another method may come with a body nobody reads: end the connection after it.
                close=request.method not in ALLOWED_METHODS,
            )
        extra = {"correlation_id": request.request_id}
        if write_error:
            extra["write_error"] = write_error
        log_request(
            self.server.logger,
            operation=request.method,
            key=log_key(request),
            show_exif=request.show_exif,
            outcome=outcome,
            started=started,
            **extra,
        )

    def _send_streamed(self, streamed: Streamed, *, head: bool) -> tuple[Outcome, str | None]:
        """A streamed 200: chunked as it is produced; cut short (no last chunk) on failure.
        A HEAD produces it all, counting, and sends the headers with its length."""
        reply = streamed.reply
        headers = [("Content-Type", streamed.content_type)]
        headers += [(name, value) for name, value in render_http(reply).headers if name not in ("Content-Length", "Content-Type")]
        if head:
            try:
                size = sum(len(chunk) for chunk in streamed.chunks())
            except StreamCut:
                outcome = failed(streamed.error, streamed.fields)
                return outcome, self._send(render_http(outcome.reply), with_body=False, close=False)
            response = HttpResponse(reply.status, (headers[0], ("Content-Length", str(size)), *headers[1:]), b"")
            return streamed.outcome(), self._send(response, with_body=False, close=False)
        chunked = streamed.length is None
        if chunked:
            headers.append(("Transfer-Encoding", "chunked"))
        else:
            headers.insert(1, ("Content-Length", str(streamed.length)))
        try:
            self.send_response_only(reply.status)
            self.send_header("Date", self.date_time_string())
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            for chunk in streamed.chunks():
                view = memoryview(chunk)
                for offset in range(0, len(view), WRITE_CHUNK_BYTES):
                    piece = view[offset : offset + WRITE_CHUNK_BYTES]
                    if chunked:
                        self.wfile.write(b"%x\r\n" % len(piece))
                    self.wfile.write(piece)
                    if chunked:
                        self.wfile.write(b"\r\n")
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except StreamCut:
            # Cut short: no last chunk, and the connection goes, so nobody reads this as whole.
            self.close_connection = True
            return streamed.outcome(), None
        except OSError as error:
            self.close_connection = True
            streamed.fields.setdefault("cut", True)
            return streamed.outcome(), type(error).__name__
        return streamed.outcome(), None

    def _send(self, response: HttpResponse, *, with_body: bool, close: bool) -> str | None:
        """Status, headers and (for GET) the body in chunks; the error's name if the peer left."""
        try:
            self.send_response_only(response.status)
            self.send_header("Date", self.date_time_string())
            for name, value in response.headers:
                self.send_header(name, value)
            if close:
                self.send_header("Connection", "close")  # http.server then closes it too
            self.end_headers()
            if with_body:
                view = memoryview(response.body)
                for offset in range(0, len(view), WRITE_CHUNK_BYTES):
                    self.wfile.write(view[offset : offset + WRITE_CHUNK_BYTES])
            self.wfile.flush()
        except OSError as error:
            self.close_connection = True
            return type(error).__name__
        return None


class UrlServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        *,
        settings: Settings,
        read: ReadOriginal,
        logger: Logger,
        open_source: Callable[[str | None], Source] | None = None,
    ) -> None:
        super().__init__(address, _RequestHandler)
        self.settings = settings
        self.read = read
        self.open_source = open_source  # None: every reply buffered (serve)
        self.logger = logger

    def serve_streamed(self, request: UrlRequest) -> Streamed | Served | None:
        """A GET or HEAD answered as the original arrives; None where serve() answers."""
        if self.open_source is None or request.method not in ALLOWED_METHODS:
            return None
        answer = respond_streamed(
            lambda: self.open_source(request.key),
            show_exif=request.show_exif,
            range_header=request.range_header,
            settings=self.settings,
            limit=OutputLimit(STREAMED_LIMIT.max_bytes, STREAMED_LIMIT.advice),
        )
        if isinstance(answer, Streamed):
            return answer
        return Served(render_http(answer.reply), answer)

    def serve(self, request: UrlRequest) -> Served:
        return serve(
            request,
            read=self.read,
            settings=self.settings,
            limit=STREAMED_LIMIT,
            size_of=lambda response: len(response.body),
        )

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001, ARG002
        """An exception outside serve(): one JSON line, no traceback on stderr."""
        self.logger.exception("transform server error")


def build_server(environ: Mapping[str, str], *, host: str = DEFAULT_HOST, port: int | None = None) -> UrlServer:
    """The server with its settings, bucket and S3 client read from `environ` (SettingsError if bad)."""
    settings = load_settings(environ)
    bucket = bucket_name(environ)
    # Made now, from this environment: the adapter waits for the server to listen anyway.
    client = s3_client(READ_TIMEOUTS)
    return UrlServer(
        (host, listen_port(environ) if port is None else port),
        settings=settings,
        read=bucket_reader(client, bucket),
        open_source=bucket_opener(lambda: client, bucket),
        logger=Logger(),
    )


def listen_port(environ: Mapping[str, str]) -> int:
    for name in PORT_VARIABLES:
        value = (environ.get(name) or "").strip()
        if value:
            if not value.isdigit() or not 0 < int(value) < 65536:  # noqa: PLR2004 - TCP port range
                msg = f"{name} must be a TCP port number; got {value!r}"
                raise SettingsError(msg)
            return int(value)
    return DEFAULT_PORT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on ({DEFAULT_HOST})")
    parser.add_argument("--port", type=int, help="port (AWS_LWA_PORT, else PORT, else 8080)")
    args = parser.parse_args(argv)
    try:
        server = build_server(os.environ, host=args.host, port=args.port)
    except SettingsError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 1
    with server:
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
