//! Artifact path selection (globs, base-directory, discard-paths, exclude-paths) and the S3 key layout.
