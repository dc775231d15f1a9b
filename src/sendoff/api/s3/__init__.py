"""S3's REST-XML protocol (:class:`sendoff.api.s3.api.S3Api`)."""
