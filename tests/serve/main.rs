//! `kiln serve` end to end: the real binary on loopback, signed deliveries in, builds run by
//! the agent binary from git repositories, statuses, pages and the API out.

mod corpus;
mod github;
mod pages;
mod support;
mod webhook;
