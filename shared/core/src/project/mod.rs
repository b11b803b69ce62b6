//! Build projects in CodeBuild's project JSON field names, the catalog and webhook filter groups.
