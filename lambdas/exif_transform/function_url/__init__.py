"""The function-URL mode's adapter: CloudFront (Origin Access Control) -> Lambda function URL.

    handler         buffered entry point (Handler function_url.handler.lambda_handler)
    server, run.sh  streaming entry point: an HTTP server behind Lambda Web Adapter
                    (Handler function_url/run.sh)
    request         the event or HTTP request as a UrlRequest
    serve           one UrlRequest to its HttpResponse, through serving.pipeline
    render          a Reply as an HTTP response, and as a buffered function URL's payload
    bucket_read     the bounded read of the original from the image bucket
    payload_limits  how large a response each invoke mode may send
"""
