//! Build projects in CodeBuild's project JSON field names, the catalog and webhook filter groups.

mod catalog;
mod model;

pub use catalog::{Catalog, CatalogError, load_catalog};
pub use model::*;
