"""anon-s3ol on your own machine: strip, show, audit and serve images as the deployed Lambdas do.

    cli          the command line: one subcommand per job, every error one line on stderr
    errors       CommandError, the one failure the command line reports without a traceback

The work itself runs the transform's own packages (metadata, serving, function_url from
lambdas/exif_transform), so what the command shows is what a viewer would get.
"""
