"""Lambda@Edge origin request: SigV4-sign the request to an S3 Object Lambda access point.
Inlined in a template: < 4096 bytes, stdlib + botocore only."""
import json
import logging
import re
from urllib.parse import quote, unquote_to_bytes

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import EnvProvider

# <name (3-45)>-<account>.s3-object-lambda.<region>.amazonaws.com
OLAP = re.compile(r"[a-z0-9][a-z0-9-]{1,43}[a-z0-9]-\d{12}\.s3-object-lambda\."
                  r"([a-z]{2}(?:-[a-z]+)+-\d{1,2})\.amazonaws\.com")
# CloudFront adds it after we return and rejects X-Amz-Cf-* from us; S3 wants it signed.
CF_ID = "x-amz-cf-id"
# Role credentials come in reserved env vars; loaded per request to follow refreshes, with
# botocore's INFO line on each load silenced (one log line per request).
CREDENTIALS = EnvProvider()
logging.getLogger("botocore").setLevel(logging.WARNING)


def sigv4_encode(raw, safe=""):
    # As S3 does: decode once, encode every byte but A-Za-z0-9-._~ (and safe), upper-case hex.
    return quote(unquote_to_bytes(raw), safe=safe)


def canonical_query(qs):
    # Sort by name, then value ("a" < "a-b" but "a=" > "a-b"); bare key -> key=.
    pairs = (p.partition("=") for p in qs.split("&") if p)
    return "&".join(k + "=" + v for k, v in sorted((sigv4_encode(k), sigv4_encode(v)) for k, _, v in pairs))


def sign(method, host, uri, qs, cf_id, region, credentials):
    url = "https://" + host + uri + ("?" + qs if qs else "")
    request = AWSRequest(method, url, {"Host": host, CF_ID: cf_id})
    # https without Content-MD5: botocore signs the empty body's hash.
    S3SigV4Auth(credentials, "s3-object-lambda", region).add_auth(request)
    return request.headers.items()


def _reply(status, text, headers=()):
    return {"status": status, "statusDescription": text,
            "headers": {k.lower(): [{"key": k, "value": v}] for k, v in headers}}


def lambda_handler(event, context):
    log = {}
    try:
        cf = event["Records"][0]["cf"]
        request = cf["request"]
        method, uri = request["method"], request["uri"]
        host = request["origin"].get("custom", {}).get("domainName", "")
        log = {"method": method, "uri": uri}
        match = OLAP.fullmatch(host)
        if not match:
            raise LookupError("not an Object Lambda origin: " + host)
        log["region"] = region = match[1]
        if method not in ("GET", "HEAD"):
            return _reply("405", "Method Not Allowed", [("Allow", "GET, HEAD")])
        credentials = CREDENTIALS.load()
        if not credentials:
            raise LookupError("no credentials")
        # Rewrite to S3's canonical form, then sign exactly what CloudFront will send.
        request["uri"] = uri = sigv4_encode(uri, "/")
        request["querystring"] = qs = canonical_query(request.get("querystring", ""))
        signed = sign(method, host, uri, qs, cf["config"]["requestId"], region,
                      credentials.get_frozen_credentials())
        # Viewer x-amz-* headers must not reach S3 unsigned; a viewer authorization is replaced.
        headers = {k: v for k, v in request["headers"].items() if not k.startswith("x-amz-")}
        headers.update((k.lower(), [{"key": k, "value": v}]) for k, v in signed if k.lower() != CF_ID)
        request["headers"] = headers
        return request
    except (LookupError, TypeError, AttributeError) as error:
        # Wrong origin, no credentials or a malformed event: answer 502, never send unsigned.
        log["error"] = repr(error)
        return _reply("502", "Bad Gateway")
    finally:
        print(json.dumps(log))
