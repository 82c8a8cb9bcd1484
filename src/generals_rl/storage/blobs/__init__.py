"""The blob seam's backends: ``FileBlobStore`` (a folder) and ``S3BlobStore``; key rules in ``keys``."""
