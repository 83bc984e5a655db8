"""What every origin mode shares, between the pure core (metadata) and a mode's adapter.

    settings       the transform's settings, read from the environment once per container
    errors         every failure a request can meet before or after the core
    original       the original object as read (Original), read bounds (Timeouts) and the
                   one bounded reader every read goes through
    request_query  what a request's query and headers ask for (showExif, Range)
    byte_range     the Range header applied to the stripped object
    reply          Reply, the one value every mode renders its own way
    error_table    the one table from a failure to its status, code and message
    pipeline       respond(): from a read of the original to the Reply and its log fields
    streamed       respond_streamed(): the same as the original arrives, over an adapter's Source
    request_log    the one log line per request
    audit_row      what an audit says about one object (the audit handler's and anon-s3ol's row)

No AWS SDK, no Powertools, no network: the adapters (olap, function_url, audit) bring those.
"""
