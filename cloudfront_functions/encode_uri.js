// Viewer-request CloudFront Function (runtime cloudfront-js-2.0) in front of a Lambda function URL;
// generate.py puts show_exif_query.js (normaliseQuery) ahead of it.
//
// Origin Access Control signs the origin request with SigV4, and keys with spaces, '+' or other
// reserved characters then fail with "signature does not match": CloudFront and the function URL
// canonicalise such a path differently. A path made only of unreserved bytes, '/' and upper-case
// %XX escapes has one canonical form, so the signature holds. Hence: decode the path once (UTF-8),
// then percent-encode every byte outside A-Z a-z 0-9 - . _ ~ and '/' with upper-case hex.
// The Lambda decodes rawPath once and gets the key the viewer asked for. In a path '+' is a
// literal plus (the key a+b.jpg), never a space. The query becomes showExif=true or nothing.

// encodeURIComponent leaves these five as they are; SigV4 encodes them.
var SIGV4_RESERVED = {'!': '%21', "'": '%27', '(': '%28', ')': '%29', '*': '%2A'};

function sigv4Path(path) {
    return encodeURIComponent(path)
        .replace(/%2F/g, '/')
        .replace(/[!'()*]/g, function (c) { return SIGV4_RESERVED[c]; });
}

function handler(event) {
    var request = event.request;
    try {
        request.uri = sigv4Path(decodeURIComponent(request.uri));
    } catch (e) {
        // URIError: a malformed escape (%zz, a lone %) or bytes that are not UTF-8.
        return {statusCode: 400, statusDescription: 'Bad Request'};
    }
    normaliseQuery(request);
    return request;
}
