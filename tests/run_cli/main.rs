//! End to end through the `kiln` binary: what a user of `kiln run` sees when a build uploads
//! artifacts, saves and restores caches, writes test reports and reads a project catalog.

mod cache;
mod config;
mod help;
mod process;
mod reports;
mod run_as;
mod summary;
mod support;
mod upload;
