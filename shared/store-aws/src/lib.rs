//! The AWS backend (DynamoDB + S3) of the storage ports.
