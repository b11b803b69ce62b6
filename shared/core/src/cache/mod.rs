//! Build caches: key evaluation, fallback-key selection and entry policy.
