"""Where models are stored: a private bucket and an identity that can only read it."""

from components.storage.minio import MinioStore, MinioStoreArgs, StoredObject

__all__ = ["MinioStore", "MinioStoreArgs", "StoredObject"]
