//! `UnavailableObjectStore`: an object store for builds that have none configured.

use kiln_core::ports::{ObjectInfo, ObjectStore, PortError, PortErrorKind, PortFuture, PutOptions};

/// An object store for builds that have none configured: every call fails as unavailable.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnavailableObjectStore;

impl UnavailableObjectStore {
    fn fail<'a, T: Send + 'a>(what: &str) -> PortFuture<'a, T> {
        let error = PortError::new(
            PortErrorKind::Unavailable,
            format!("{what}: no object store is configured"),
        );
        Box::pin(async move { Err(error) })
    }
}

impl ObjectStore for UnavailableObjectStore {
    fn put_file<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
        _: &'a std::path::Path,
        _: &'a PutOptions,
    ) -> PortFuture<'a, ()> {
        Self::fail("put object")
    }
    fn put_bytes<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
        _: Vec<u8>,
        _: &'a PutOptions,
    ) -> PortFuture<'a, ()> {
        Self::fail("put object")
    }
    fn get_file<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
        _: &'a std::path::Path,
    ) -> PortFuture<'a, ObjectInfo> {
        Self::fail("get object")
    }
    fn head<'a>(&'a self, _: &'a str, _: &'a str) -> PortFuture<'a, ObjectInfo> {
        Self::fail("head object")
    }
    fn list<'a>(&'a self, _: &'a str, _: &'a str) -> PortFuture<'a, Vec<ObjectInfo>> {
        Self::fail("list objects")
    }
}
