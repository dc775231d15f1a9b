"""S3's errors, each with the code and status AWS answers (rendered as XML by api.s3).

S3Error
├── NoSuchBucket              404
├── NoSuchKey                 404
├── NoSuchUpload              404
├── NoSuchVersion             404
├── BucketAlreadyOwnedByYou   409
├── BucketAlreadyExists       409
├── BucketNotEmpty            409
├── InvalidBucketName         400
├── KeyTooLong                400
├── InvalidArgument           400
├── InvalidRequest            400
├── InvalidLocationConstraint 400
├── IllegalLocationConstraint 400
├── MalformedXML              400
├── EntityTooLarge            400
├── EntityTooSmall            400
├── InvalidPart               400
├── InvalidPartOrder          400
├── InvalidDigest             400
├── BadDigest                 400
├── ContentSha256Mismatch     400
├── IncompleteBody            400
├── InvalidRange              416
├── PreconditionFailed        412
├── NotModified               304
├── AccessDenied              403
├── SignatureDoesNotMatch     403
├── MethodNotAllowed          405
└── NotImplementedS3          501
"""

from __future__ import annotations

from sendoff.errors import SendoffError


class S3Error(SendoffError):
    """An S3 API error; ``extra`` adds elements to the XML (BucketName, Key...)."""

    code = "InternalError"
    status = 500

    def __init__(self, message: str = "", **extra: str) -> None:
        super().__init__(message)
        self.extra = extra


class NoSuchBucket(S3Error):
    """NoSuchBucket (404)."""

    code = "NoSuchBucket"
    status = 404
    not_found = True


class NoSuchKey(S3Error):
    """NoSuchKey (404)."""

    code = "NoSuchKey"
    status = 404
    not_found = True


class NoSuchUpload(S3Error):
    """NoSuchUpload (404)."""

    code = "NoSuchUpload"
    status = 404
    not_found = True


class NoSuchVersion(S3Error):
    """NoSuchVersion (404)."""

    code = "NoSuchVersion"
    status = 404
    not_found = True


class BucketAlreadyOwnedByYou(S3Error):
    """BucketAlreadyOwnedByYou (409)."""

    code = "BucketAlreadyOwnedByYou"
    status = 409


class BucketAlreadyExists(S3Error):
    """BucketAlreadyExists (409)."""

    code = "BucketAlreadyExists"
    status = 409


class BucketNotEmpty(S3Error):
    """BucketNotEmpty (409)."""

    code = "BucketNotEmpty"
    status = 409


class InvalidBucketName(S3Error):
    """InvalidBucketName (400)."""

    code = "InvalidBucketName"
    status = 400


class KeyTooLong(S3Error):
    """KeyTooLongError (400)."""

    code = "KeyTooLongError"
    status = 400


class InvalidArgument(S3Error):
    """InvalidArgument (400)."""

    code = "InvalidArgument"
    status = 400


class InvalidRequest(S3Error):
    """InvalidRequest (400)."""

    code = "InvalidRequest"
    status = 400


class InvalidLocationConstraint(S3Error):
    """InvalidLocationConstraint (400)."""

    code = "InvalidLocationConstraint"
    status = 400


class IllegalLocationConstraint(S3Error):
    """IllegalLocationConstraintException (400)."""

    code = "IllegalLocationConstraintException"
    status = 400


class MalformedXML(S3Error):
    """MalformedXML (400)."""

    code = "MalformedXML"
    status = 400


class EntityTooLarge(S3Error):
    """EntityTooLarge (400)."""

    code = "EntityTooLarge"
    status = 400


class EntityTooSmall(S3Error):
    """EntityTooSmall (400)."""

    code = "EntityTooSmall"
    status = 400


class InvalidPart(S3Error):
    """InvalidPart (400)."""

    code = "InvalidPart"
    status = 400


class InvalidPartOrder(S3Error):
    """InvalidPartOrder (400)."""

    code = "InvalidPartOrder"
    status = 400


class InvalidDigest(S3Error):
    """InvalidDigest (400)."""

    code = "InvalidDigest"
    status = 400


class BadDigest(S3Error):
    """BadDigest (400)."""

    code = "BadDigest"
    status = 400


class ContentSha256Mismatch(S3Error):
    """XAmzContentSHA256Mismatch (400)."""

    code = "XAmzContentSHA256Mismatch"
    status = 400


class IncompleteBody(S3Error):
    """IncompleteBody (400)."""

    code = "IncompleteBody"
    status = 400


class InvalidRange(S3Error):
    """InvalidRange (416)."""

    code = "InvalidRange"
    status = 416


class PreconditionFailed(S3Error):
    """PreconditionFailed (412)."""

    code = "PreconditionFailed"
    status = 412


class NotModified(S3Error):
    """NotModified (304)."""

    code = "NotModified"
    status = 304


class AccessDenied(S3Error):
    """AccessDenied (403)."""

    code = "AccessDenied"
    status = 403


class SignatureDoesNotMatch(S3Error):
    """SignatureDoesNotMatch (403)."""

    code = "SignatureDoesNotMatch"
    status = 403


class MethodNotAllowed(S3Error):
    """MethodNotAllowed (405)."""

    code = "MethodNotAllowed"
    status = 405


class NotImplementedS3(S3Error):
    """NotImplemented (501)."""

    code = "NotImplemented"
    status = 501
