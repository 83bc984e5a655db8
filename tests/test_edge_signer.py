"""The Lambda@Edge origin-request signer, checked against an independent SigV4 reference and real botocore signing.

Time is frozen by replacing botocore's clock (`botocore.auth.get_current_datetime`), and the role's credentials are
the reserved environment variables the Lambda runtime sets; nothing of the signer itself is replaced.
"""

import ast
import copy
import datetime
import json
import sys

import botocore.auth
import pytest


from edge_signer_fixtures import (
    EMPTY_BODY_SHA256,
    HANDLER_PATH,
    UNSIGNED_PAYLOAD,
    cf_headers,
    expected_authorization,
    final_request,
    load_handler,
    origin_request_event,
    canonical_query,
    parse_query,
    percent_decode,
    s3_verifies,
    uri_encode,
)

handler = load_handler()

# CloudFormation accepts at most 4096 bytes of inline Lambda code (AWS::Lambda::Function Code, ZipFile).
INLINE_CODE_LIMIT_BYTES = 4096

REGION = "eu-west-3"
DOMAIN = f"anon-s3ol-olap-123456789012.s3-object-lambda.{REGION}.amazonaws.com"
REQUEST_ID = "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ=="
ACCESS_KEY = "ASIAEDGESIGNERTEST01"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE//session+token/with=odd*chars"
FROZEN = datetime.datetime(2026, 3, 14, 15, 9, 26)
AMZ_DATE = "20260314T150926Z"

# (what CloudFront hands the function, the object key the viewer asked for)
KEYS = [
    ("/my%20photo.jpg", "my photo.jpg"),
    ("/a+b.jpg", "a+b.jpg"),
    ("/a%2Bb.jpg", "a+b.jpg"),
    ("/photo(1).jpg", "photo(1).jpg"),
    ("/x!$&'*,;=@.jpg", "x!$&'*,;=@.jpg"),
    ("/~user.jpg", "~user.jpg"),
    ("/%C3%BC.jpg", "\u00fc.jpg"),
    ("/%c3%bc.jpg", "\u00fc.jpg"),
    ("/\u00fc.jpg", "\u00fc.jpg"),
    ("/albums/2024/summer%20trip/IMG_0001.JPG", "albums/2024/summer trip/IMG_0001.JPG"),
]
# (CloudFront's querystring, the decoded parameters the viewer sent)
QUERIES = [
    ("", []),
    ("showExif=true", [("showExif", "true")]),
    ("showExif", [("showExif", "")]),
    ("b=2&a=1", [("b", "2"), ("a", "1")]),
    # "a" sorts before "a-b" by name, although "a=1" sorts after "a-b=2" as a string.
    ("a-b=2&a=1", [("a-b", "2"), ("a", "1")]),
    # Lower-case and needless escapes, and characters SigV4 encodes, all as a browser may send them.
    ("caption=caf%c3%a9%20(1)&%7Euser=x*y", [("caption", "caf\u00e9 (1)"), ("~user", "x*y")]),
]


@pytest.fixture(autouse=True)
def role_environment(monkeypatch):
    """The execution role's credentials as Lambda sets them, and botocore's clock stopped at FROZEN."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    monkeypatch.delenv("AWS_SECURITY_TOKEN", raising=False)
    monkeypatch.delenv("AWS_CREDENTIAL_EXPIRATION", raising=False)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *args, **kwargs: FROZEN)


def run(uri="/photo.jpg", querystring="", method="GET", domain=DOMAIN, headers=None, **kwargs):
    event = origin_request_event(uri, querystring, method, domain, REQUEST_ID, headers, **kwargs)
    return handler.lambda_handler(event, None)


def sign_and_finalise(uri, querystring="", method="GET", domain=DOMAIN, headers=None):
    return final_request(run(uri, querystring, method, domain, headers), REQUEST_ID)


def reference_authorization(key, params, payload_hash, method="GET", amz_date=AMZ_DATE, cf_id=REQUEST_ID):
    headers = {
        "host": DOMAIN,
        "x-amz-cf-id": cf_id,
        "x-amz-content-sha256": payload_hash,
        "x-amz-date": amz_date,
        "x-amz-security-token": TOKEN,
    }
    return expected_authorization(method, key, params, headers, ACCESS_KEY, SECRET_KEY, REGION)


@pytest.mark.parametrize("querystring, params", QUERIES)
@pytest.mark.parametrize("uri, key", KEYS)
def test_authorization_equals_the_independent_reference(uri, key, querystring, params):
    request = sign_and_finalise(uri, querystring)
    payload_hash = request["headers"]["x-amz-content-sha256"]
    assert payload_hash in (EMPTY_BODY_SHA256, UNSIGNED_PAYLOAD)
    assert request["headers"]["authorization"] == reference_authorization(key, params, payload_hash)


@pytest.mark.parametrize("querystring, params", QUERIES)
@pytest.mark.parametrize("uri, key", KEYS)
def test_rewritten_request_verifies_as_s3_recomputes_it(uri, key, querystring, params):
    assert s3_verifies(sign_and_finalise(uri, querystring), SECRET_KEY, REGION)


@pytest.mark.parametrize("uri, key", KEYS)
def test_rewritten_uri_names_the_key_the_viewer_asked_for_in_canonical_form(uri, key):
    request = sign_and_finalise(uri)
    assert percent_decode(request["uri"]) == ("/" + key).encode("utf-8")
    assert request["uri"] == "/" + uri_encode(key.encode("utf-8"), keep_slash=True)


@pytest.mark.parametrize("querystring, params", QUERIES)
def test_rewritten_query_carries_the_viewers_parameters_in_canonical_form(querystring, params):
    request = sign_and_finalise("/photo.jpg", querystring)
    expected = sorted((name.encode(), value.encode()) for name, value in params)
    assert sorted(parse_query(request["querystring"])) == expected
    assert request["querystring"] == canonical_query(params)


def _with(request, **changes):
    changed = copy.deepcopy(request)
    for field, value in changes.items():
        if field in ("uri", "querystring"):
            changed[field] = value
        else:
            changed["headers"][field.replace("_", "-")] = value
    return changed


@pytest.mark.parametrize(
    "changes",
    [
        {"uri": "/my%20photo.png"},
        {"uri": "/my+photo.jpg"},
        {"querystring": "showExif=false"},
        {"querystring": "showExif=true&x=1"},
        {"querystring": ""},
        {"x_amz_cf_id": REQUEST_ID.replace("4T", "5T")},
        {"x_amz_date": "20260314T150927Z"},
    ],
    ids=["key", "key-plus", "query-value", "query-extra", "query-dropped", "cf-id", "time"],
)
def test_changed_request_no_longer_verifies(changes):
    request = sign_and_finalise("/my%20photo.jpg", "showExif=true")
    assert s3_verifies(request, SECRET_KEY, REGION)
    assert not s3_verifies(_with(request, **changes), SECRET_KEY, REGION)


def test_reference_for_another_time_or_cf_id_differs():
    request = sign_and_finalise("/my%20photo.jpg", "showExif=true")
    payload_hash = request["headers"]["x-amz-content-sha256"]
    params = [("showExif", "true")]
    assert request["headers"]["authorization"] == reference_authorization("my photo.jpg", params, payload_hash)
    assert request["headers"]["authorization"] != reference_authorization(
        "my photo.jpg", params, payload_hash, amz_date="20260314T150927Z"
    )
    assert request["headers"]["authorization"] != reference_authorization(
        "my photo.jpg", params, payload_hash, cf_id="another-request-id"
    )


def test_signed_headers_cover_every_x_amz_header_of_the_final_request():
    viewer = cf_headers(
        x_amz_meta_owner="viewer", x_amz_date="19990101T000000Z", user_agent="curl/8", if_none_match='"etag"'
    )
    request = sign_and_finalise("/photo.jpg", "showExif=true", headers=viewer)
    signed = request["headers"]["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    x_amz = {name for name in request["headers"] if name.startswith("x-amz-")}
    assert x_amz == {"x-amz-cf-id", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token"}
    assert x_amz | {"host"} <= set(signed)
    assert s3_verifies(request, SECRET_KEY, REGION)


def test_cf_id_is_signed_but_left_for_cloudfront_to_add():
    returned = run("/photo.jpg")
    assert not any(name.startswith("x-amz-cf-") for name in returned["headers"])
    assert "x-amz-cf-id" in returned["headers"]["authorization"][0]["value"]


def test_viewer_authorization_and_x_amz_headers_are_dropped():
    viewer = cf_headers(
        authorization="AWS4-HMAC-SHA256 Credential=VIEWER/20260314/eu-west-3/s3-object-lambda/aws4_request",
        x_amz_security_token="viewer-token",
        x_amz_meta_owner="viewer",
    )
    returned = run("/photo.jpg", headers=viewer)
    headers = returned["headers"]
    assert "VIEWER" not in json.dumps(headers["authorization"])
    assert headers["authorization"][0]["value"].startswith(f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/")
    assert headers["x-amz-security-token"] == [{"key": "X-Amz-Security-Token", "value": TOKEN}]
    assert "x-amz-meta-owner" not in headers


def test_host_is_the_origin_domain_and_other_headers_stay_as_cloudfront_set_them():
    viewer = cf_headers(
        host="d111111abcdef8.cloudfront.net",
        user_agent="Amazon CloudFront",
        via="2.0 2afae0d44e2540f472c0635ab62c232b.cloudfront.net (CloudFront)",
        accept_encoding="gzip",
        if_none_match='"abc"',
        cloudfront_forwarded_proto="https",
    )
    untouched = {name: copy.deepcopy(entries) for name, entries in viewer.items() if name != "host"}
    headers = run("/photo.jpg", headers=viewer)["headers"]
    assert headers["host"] == [{"key": "Host", "value": DOMAIN}]
    for name, entries in untouched.items():
        assert headers[name] == entries
    for name, entries in headers.items():
        assert name == name.lower()
        assert all(set(entry) == {"key", "value"} and entry["key"].lower() == name for entry in entries)


def test_head_is_signed_and_its_method_is_part_of_the_signature():
    request = sign_and_finalise("/photo(1).jpg", method="HEAD")
    assert s3_verifies(request, SECRET_KEY, REGION)
    assert not s3_verifies(dict(request, method="GET"), SECRET_KEY, REGION)


@pytest.mark.parametrize("region", ["us-east-1", "ap-southeast-2", "us-gov-west-1", "eu-central-2", "il-central-1"])
def test_region_comes_from_the_origin_domain(region):
    domain = f"photos-olap-210987654321.s3-object-lambda.{region}.amazonaws.com"
    request = sign_and_finalise("/photo.jpg", domain=domain)
    assert f"/{region}/s3-object-lambda/aws4_request" in request["headers"]["authorization"]
    assert request["headers"]["host"] == domain
    assert s3_verifies(request, SECRET_KEY, region)


@pytest.mark.parametrize(
    "domain",
    [
        "my-bucket.s3.eu-west-3.amazonaws.com",
        "images.example.com",
        f"{DOMAIN}.evil.example",
        f"evil.example.{DOMAIN}",
        "anon-s3ol-olap-12345678901.s3-object-lambda.eu-west-3.amazonaws.com",
        "-123456789012.s3-object-lambda.eu-west-3.amazonaws.com",
        "anon-s3ol-olap-123456789012.s3-object-lambda.amazonaws.com",
        DOMAIN + "\n",
        "",
    ],
)
def test_origin_that_is_not_an_object_lambda_access_point_gets_502(domain):
    response = run("/photo.jpg", domain=domain)
    assert response["status"] == "502"
    assert "uri" not in response and "authorization" not in response["headers"]


def test_s3_origin_gets_502():
    response = run("/photo.jpg", origin={"s3": {"domainName": DOMAIN, "path": "", "authMethod": "none"}})
    assert response["status"] == "502"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_methods_other_than_get_and_head_get_405(method):
    response = run("/photo.jpg", method=method)
    assert response["status"] == "405"
    assert response["headers"]["allow"] == [{"key": "Allow", "value": "GET, HEAD"}]
    assert "authorization" not in response["headers"]


def test_missing_credentials_give_502(monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    assert run("/photo.jpg")["status"] == "502"


@pytest.mark.parametrize(
    "event",
    [{}, {"Records": []}, {"Records": [{"cf": {}}]}, None, {"Records": [{"cf": {"request": {"method": "GET"}}}]}],
)
def test_malformed_event_gets_502_and_one_log_line(event, capsys):
    assert handler.lambda_handler(event, None)["status"] == "502"
    assert len(capsys.readouterr().out.splitlines()) == 1


def test_refreshed_credentials_are_used(monkeypatch):
    first = sign_and_finalise("/photo.jpg")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ASIAREFRESHEDKEY0002")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "refreshed-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "refreshed-token")
    second = sign_and_finalise("/photo.jpg")
    assert ACCESS_KEY in first["headers"]["authorization"]
    assert "ASIAREFRESHEDKEY0002/" in second["headers"]["authorization"]
    assert second["headers"]["x-amz-security-token"] == "refreshed-token"
    assert s3_verifies(second, "refreshed-secret", REGION)
    assert not s3_verifies(second, SECRET_KEY, REGION)


def test_one_log_line_with_method_uri_region_and_no_secrets(capsys):
    returned = run("/my%20photo.jpg", "showExif=true")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    logged = json.loads(lines[0])
    assert (logged["method"], logged["uri"], logged["region"]) == ("GET", "/my%20photo.jpg", REGION)
    signature = returned["headers"]["authorization"][0]["value"].rsplit("Signature=", 1)[1]
    for secret in (SECRET_KEY, TOKEN, ACCESS_KEY, signature):
        assert secret not in lines[0]


def test_file_fits_cloudformation_inline_code():
    assert HANDLER_PATH.stat().st_size < INLINE_CODE_LIMIT_BYTES


def test_imports_only_the_standard_library_and_botocore_and_reads_no_environment():
    tree = ast.parse(HANDLER_PATH.read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative imports do not exist in inline code"
            modules.add(node.module.split(".")[0])
    assert "botocore" in modules
    assert {m for m in modules if m != "botocore" and m not in sys.stdlib_module_names} == set()
    names = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    names |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    assert not names & {"environ", "getenv", "os"}
