"""The built-in S3 service (domain side): buckets, objects stored as manifests of
content-addressed chunks, multipart uploads, and the object events notifications use.
The REST-XML edge is :mod:`sendoff.api.s3`; design and limits in docs/s3.md."""
