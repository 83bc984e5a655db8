"""anon-s3ol on your own machine: strip, show, audit and serve images as the deployed Lambdas do.

    cli            the command line: one subcommand per job, every error one line on stderr
    errors         CommandError, the one failure the command line reports (no traceback)
    strip_files    strip: the bytes a viewer gets, written under the same file names
    show_exif      show: the JSON ?showExif=true answers
    audit          audit: the listing streamed, files read concurrently within bounds
    batch_audit    audit --batch: the same audit by an S3 Batch Operations job (templates/audit.json)
    findings       one file's audit row (serving/audit_row.py, shared with the Lambda audit handler)
    audit_report   the rows as a table, JSON or CSV, and the summary
    progress       the progress line on a terminal
    sources        a local folder or an S3 prefix: its listing and bounded reads
    s3_access      s3:// arguments, the S3 client, and each S3 failure as one line
    local_server   serve: function_url's HTTP server over a folder or a bucket prefix
    invalidate     invalidate: CloudFront invalidations for the deployed distribution

The work itself runs the transform's own packages (metadata, serving, function_url from
lambdas/exif_transform, mapped by pyproject.toml), so what the command shows is what a
viewer of the deployed service would get.
"""
