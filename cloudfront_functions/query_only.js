// Viewer-request CloudFront Function of the S3 Object Lambda modes (olap and olap-oac): the query only.
// The edge signer (olap) or S3 itself (olap-oac) canonicalises the path, so it stays as it is.

function handler(event) {
    normaliseQuery(event.request);
    return event.request;
}
