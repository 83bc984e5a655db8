"""An independent SigV4 reference for S3 requests, and CloudFront origin-request events to feed the edge signer.

The reference is written from AWS's published SigV4 rules and shares no code with botocore or the edge signer:
percent-encoding and -decoding are done byte by byte here, so a test that compares the two catches a
canonicalisation mistake in either. `s3_verifies` checks a request the way S3 does on arrival: it decodes the path
and query it receives once, re-derives the canonical request from them and recomputes the signature.
"""

import hashlib
import hmac
import importlib.util
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
HANDLER_PATH = REPO_ROOT / "lambdas" / "edge_signer" / "handler.py"

SERVICE = "s3-object-lambda"
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
ALGORITHM = "AWS4-HMAC-SHA256"

# SigV4's unreserved characters: every other byte is percent-encoded with upper-case hex.
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<access_key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)"
    r"/aws4_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})"
)


def load_handler():
    """Import lambdas/edge_signer/handler.py under a name of its own (the transform also has a handler.py)."""
    spec = importlib.util.spec_from_file_location("edge_signer_handler", HANDLER_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def uri_encode(data, keep_slash=False):
    """Percent-encode bytes as SigV4 says: unreserved bytes (and '/' in a path) as they are, the rest %XX."""
    out = []
    for byte in data:
        if byte in _UNRESERVED or (keep_slash and byte == ord("/")):
            out.append(chr(byte))
        else:
            out.append("%%%02X" % byte)
    return "".join(out)


def percent_decode(text):
    """Decode %XX escapes once (either case of hex), leaving every other character as its UTF-8 bytes."""
    raw = text.encode("utf-8")
    out = bytearray()
    i = 0
    while i < len(raw):
        if raw[i] == ord("%") and i + 2 < len(raw) and raw[i + 1] in _HEX and raw[i + 2] in _HEX:
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return bytes(out)


def parse_query(querystring):
    """A query string as S3 reads it: '&'-separated, split at the first '=', each side decoded once."""
    pairs = []
    for part in querystring.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((percent_decode(name), percent_decode(value)))
    return pairs


def canonical_query(params):
    """Encoded names and values, sorted by name then value; a bare name gets an empty value."""
    encoded = sorted((uri_encode(_bytes(name)), uri_encode(_bytes(value))) for name, value in params)
    return "&".join(f"{name}={value}" for name, value in encoded)


def canonical_request(method, key, params, headers, signed_names):
    """S3's canonical request for the object `key` (decoded, no leading '/') and decoded query `params`."""
    canonical_headers = "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in signed_names)
    return "\n".join(
        [
            method,
            "/" + uri_encode(_bytes(key), keep_slash=True),
            canonical_query(params),
            canonical_headers,
            ";".join(signed_names),
            headers["x-amz-content-sha256"],
        ]
    )


def signature(secret_key, amz_date, region, canonical):
    """String to sign and the derived signing key, as in the SigV4 specification."""
    scope = f"{amz_date[:8]}/{region}/{SERVICE}/aws4_request"
    string_to_sign = "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    key = ("AWS4" + secret_key).encode("utf-8")
    for part in (amz_date[:8], region, SERVICE, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def signed_header_names(headers):
    """What S3 needs signed: host and every x-amz-* header of the request, sorted."""
    return sorted(name for name in headers if name == "host" or name.startswith("x-amz-"))


def expected_authorization(method, key, params, headers, access_key, secret_key, region):
    """The Authorization header a correct signer produces for these decoded inputs and final headers."""
    names = signed_header_names(headers)
    canonical = canonical_request(method, key, params, headers, names)
    sig = signature(secret_key, headers["x-amz-date"], region, canonical)
    scope = f"{access_key}/{headers['x-amz-date'][:8]}/{region}/{SERVICE}/aws4_request"
    return f"{ALGORITHM} Credential={scope}, SignedHeaders={';'.join(names)}, Signature={sig}"


def final_request(returned, cf_id):
    """The request S3 receives: what the function returned, plus the x-amz-cf-id CloudFront adds afterwards."""
    headers = {name: ",".join(entry["value"] for entry in entries) for name, entries in returned["headers"].items()}
    headers["x-amz-cf-id"] = cf_id
    return {
        "method": returned["method"],
        "uri": returned["uri"],
        "querystring": returned["querystring"],
        "headers": headers,
    }


def s3_verifies(request, secret_key, region):
    """True when S3 would accept the request's signature: recompute it from what arrives, decoded once."""
    headers = request["headers"]
    match = _AUTHORIZATION.fullmatch(headers.get("authorization", ""))
    if not match or match["region"] != region or match["service"] != SERVICE:
        return False
    names = match["signed"].split(";")
    if names != sorted(names) or not set(signed_header_names(headers)) <= set(names):
        return False  # unsorted, or host or an x-amz-* header left unsigned
    if any(name not in headers for name in names) or match["date"] != headers["x-amz-date"][:8]:
        return False
    key = percent_decode(request["uri"])[1:]
    params = parse_query(request["querystring"])
    canonical = canonical_request(request["method"], key, params, headers, names)
    expected = signature(secret_key, headers["x-amz-date"], region, canonical)
    return hmac.compare_digest(expected, match["signature"])


def origin_request_event(uri, querystring="", method="GET", domain=None, request_id="", headers=None, origin=None):
    """A CloudFront origin-request event shaped like the Lambda@Edge documentation's example."""
    return {
        "Records": [
            {
                "cf": {
                    "config": {
                        "distributionDomainName": "d111111abcdef8.cloudfront.net",
                        "distributionId": "EDFDVBD6EXAMPLE",
                        "eventType": "origin-request",
                        "requestId": request_id,
                    },
                    "request": {
                        "clientIp": "203.0.113.178",
                        "headers": headers if headers is not None else {},
                        "method": method,
                        "origin": origin
                        if origin is not None
                        else {
                            "custom": {
                                "customHeaders": {},
                                "domainName": domain,
                                "keepaliveTimeout": 5,
                                "path": "",
                                "port": 443,
                                "protocol": "https",
                                "readTimeout": 30,
                                "sslProtocols": ["TLSv1.2"],
                            }
                        },
                        "querystring": querystring,
                        "uri": uri,
                    },
                }
            }
        ]
    }


def cf_headers(**values):
    """CloudFront's header structure: user_agent="x" -> {"user-agent": [{"key": "User-Agent", "value": "x"}]}."""
    out = {}
    for name, value in values.items():
        dashed = name.replace("_", "-")
        out[dashed] = [{"key": "-".join(part.capitalize() for part in dashed.split("-")), "value": value}]
    return out


def _bytes(value):
    return value if isinstance(value, bytes) else value.encode("utf-8")
