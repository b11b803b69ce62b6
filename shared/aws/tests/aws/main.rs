//! kiln-aws's adapters against an AWS emulator (moto's server, see `support`), and, for what
//! the emulator cannot show, against the SDK's replay client asserting the exact requests.

/// The emulator's URL, or return from the test (skipping it) when there is none.
macro_rules! moto {
    () => {
        match crate::support::moto_url() {
            Some(url) => url,
            None => return,
        }
    };
}

mod archive;
mod builds;
mod ecs;
mod logs;
mod objects;
mod replay;
mod secrets;
mod support;
