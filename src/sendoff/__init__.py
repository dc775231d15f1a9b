"""sendoff: an open engine for AWS Lambda asynchronous invocation and Lambda Destinations."""

__version__ = "0.1.0"
