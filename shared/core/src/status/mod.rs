//! Commit status mapping and templating.
