"""The S3 Object Lambda mode's adapter: its event, its reads of the original, its renderings.

    handler            the Lambda entry point (Handler olap.handler.lambda_handler)
    event              the GetObject/HeadObject event as an OlapRequest
    presigned_fetch    GET or HEAD of the presigned URL the event carries, read whole
    presigned_stream   the same URL opened for a streamed strip (a Source), with ranged reads
    presigned_url      what both share: the https check, the opener, the body's reads
    access_point_read  the HEAD path's read through the supporting access point
    render             a Reply as WriteGetObjectResponse arguments or a HeadObject result
"""
