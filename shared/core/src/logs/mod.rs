//! Build log lines in CodeBuild's format, phase markers and secret masking.
