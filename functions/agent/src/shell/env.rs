//! Checking the variables a build's shell starts with: a process environment holds no NUL
//! byte and no `=` in a name, so such a variable would make every command fail to start.
//!
//! [INF] The image's environment and start-build overrides are filtered with
//! [`retain_valid`] (each dropped variable is a warning); anything left that is still invalid
//! (a builtin, a resolved secret) makes [`check`] fail, which fails DOWNLOAD_SOURCE once with
//! a message naming the variable (never its value).

/// A variable the shell cannot be given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    /// Its value holds a NUL byte.
    #[error("environment variable {name}: its value holds a NUL byte")]
    NulInValue {
        /// The variable's name.
        name: String,
    },
    /// Its name is empty or holds `=` or a NUL byte.
    #[error("environment variable {name:?}: not a valid name")]
    InvalidName {
        /// The name.
        name: String,
    },
}

impl EnvError {
    /// The offending variable's name.
    pub fn name(&self) -> &str {
        match self {
            Self::NulInValue { name } | Self::InvalidName { name } => name,
        }
    }
}

fn problem(name: &str, value: &str) -> Option<EnvError> {
    if name.is_empty() || name.contains(['=', '\0']) {
        Some(EnvError::InvalidName { name: name.to_owned() })
    } else if value.contains('\0') {
        Some(EnvError::NulInValue { name: name.to_owned() })
    } else {
        None
    }
}

/// The first variable of `env` a process environment cannot hold.
pub fn check(env: &[(String, String)]) -> Result<(), EnvError> {
    env.iter().find_map(|(n, v)| problem(n, v)).map_or(Ok(()), Err)
}

/// Drops from `env` the variables a process environment cannot hold, returning why each went.
pub fn retain_valid(env: &mut Vec<(String, String)>) -> Vec<EnvError> {
    let mut dropped = Vec::new();
    env.retain(|(n, v)| match problem(n, v) {
        Some(e) => {
            dropped.push(e);
            false
        }
        None => true,
    });
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_bytes_and_bad_names_are_found() {
        let pair = |n: &str, v: &str| (n.to_owned(), v.to_owned());
        let mut env = vec![pair("A", "1"), pair("B", "x\0y"), pair("C=D", "2"), pair("", "3")];
        assert_eq!(check(&env), Err(EnvError::NulInValue { name: "B".into() }));
        let dropped = retain_valid(&mut env);
        assert_eq!(dropped.iter().map(EnvError::name).collect::<Vec<_>>(), ["B", "C=D", ""]);
        assert_eq!(env, [pair("A", "1")]);
        assert_eq!(check(&env), Ok(()));
        assert_eq!(dropped[0].to_string(), "environment variable B: its value holds a NUL byte");
    }
}
