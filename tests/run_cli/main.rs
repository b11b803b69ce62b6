//! End to end through the `kiln` binary: what a user of `kiln run` sees when a build uploads
//! artifacts, saves and restores caches, writes test reports and reads a project catalog.

mod before;
mod cache;
mod config;
mod data_dir;
mod help;
mod process;
mod reports;
mod run_as;
mod summary;
mod support;
mod upload;
