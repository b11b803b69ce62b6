//! Build pages: server-rendered HTML of the build list and of one build (its phases, log,
//! artifacts, test reports, exported variables and what started it), and SVG status badges.
//! `kiln serve` and the `kiln-pages` Lambda function render the same pages from the same
//! records and summaries; only where they read them from differs.
//!
//! Pages work without JavaScript: while a build runs, its page refreshes itself (a `noscript`
//! refresh); with JavaScript, a small inline script appends the log as it grows instead, keeping
//! the reader's place, and reloads once the build has ended. Nothing on a page is read from a
//! secret: the log and the summary are masked by the agent, records hold none, and every text
//! is escaped.

mod api;
mod badge;
mod build;
mod html;
mod list;

pub use api::{api_summary, provisional_summary};
pub use badge::badge;
pub use build::{BuildPage, build_page};
pub use html::escape;
pub use list::build_list;
