//! kiln-github against the fake GitHub on the wire: exact requests, pagination, contents,
//! token and App authentication, retries, GitHub Enterprise Server, and no secret in any text.

mod app_auth;
mod ghes;
mod retries;
mod secrets;
mod source;
mod statuses;
mod support;
