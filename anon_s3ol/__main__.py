"""`python -m anon_s3ol`, the same as the anon-s3ol console script."""

from anon_s3ol.cli import main

raise SystemExit(main())
