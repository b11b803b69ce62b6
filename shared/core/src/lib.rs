//! kiln's domain: buildspecs, projects, webhooks, builds, artifacts, reports and caches.
//!
//! This crate names no AWS SDK, no HTTP client and no process spawning: everything outside
//! reaches it through the traits in [`ports`], so the same logic runs in Lambda, in the
//! Fargate agent and on a laptop.

pub mod artifacts;
pub mod build;
pub mod buildspec;
pub mod cache;
pub mod diagnostic;
mod error_text;
pub mod limits;
pub mod logs;
pub mod notify;
pub mod pages;
pub mod ports;
pub mod project;
pub mod reports;
pub mod service;
pub mod status;
pub mod webhook;
pub mod yaml;

pub use error_text::error_chain;
