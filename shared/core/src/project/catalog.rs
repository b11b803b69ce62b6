//! The project catalog file: one project, a list, or `{"projects": [...]}`, in YAML or JSON.

use serde::Deserialize;

use crate::diagnostic::Diagnostic;
use crate::yaml;

use super::model::Project;

/// Every project of a catalog file, in file order.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// The projects.
    pub projects: Vec<Project>,
    /// Warnings about the file (unknown fields, ...).
    pub warnings: Vec<Diagnostic>,
}

impl Catalog {
    /// The project called `name`.
    pub fn get(&self, name: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.name == name)
    }
}

/// Why a catalog could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The text is not YAML or JSON.
    #[error("invalid catalog: {0}")]
    Syntax(Diagnostic),
    /// A field has the wrong type or value.
    #[error("invalid catalog: {path}: {message}")]
    Field {
        /// The field path, such as `projects[0].artifacts.packaging`.
        path: String,
        /// What is wrong.
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CatalogFile {
    Wrapped { projects: Vec<Project> },
    List(Vec<Project>),
    One(Box<Project>),
}

/// Reads a catalog text (YAML or JSON).
///
/// # Errors
/// [`CatalogError`] naming the position of a syntax error or the path of a bad field.
pub fn load_catalog(text: &str) -> Result<Catalog, CatalogError> {
    let doc = yaml::parse(text).map_err(CatalogError::Syntax)?;
    let json = doc.root.map(|r| r.to_json()).unwrap_or(serde_json::Value::Null);
    let file: CatalogFile = match &json {
        serde_json::Value::Object(map) if map.contains_key("projects") => {
            let projects = json.get("projects").cloned().unwrap_or_default();
            let projects: Vec<Project> = deserialize_at(projects, "projects")?;
            CatalogFile::Wrapped { projects }
        }
        serde_json::Value::Array(_) => CatalogFile::List(deserialize_at(json, "")?),
        _ => CatalogFile::One(Box::new(deserialize_at(json, "")?)),
    };
    let projects = match file {
        CatalogFile::Wrapped { projects } | CatalogFile::List(projects) => projects,
        CatalogFile::One(p) => vec![*p],
    };
    Ok(Catalog { projects, warnings: doc.warnings })
}

fn deserialize_at<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
    prefix: &str,
) -> Result<T, CatalogError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.path().to_string();
        let path = match (prefix.is_empty(), inner == ".") {
            (true, _) => inner,
            (false, true) => prefix.to_owned(),
            (false, false) if inner.starts_with('[') => format!("{prefix}{inner}"),
            (false, false) => format!("{prefix}.{inner}"),
        };
        CatalogError::Field { path, message: e.into_inner().to_string() }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_project_a_list_or_wrapped() {
        let one = load_catalog("name: a\n").expect("one");
        assert_eq!(one.projects.len(), 1);
        let list = load_catalog("- name: a\n- name: b\n").expect("list");
        assert_eq!(list.projects.len(), 2);
        let wrapped = load_catalog(r#"{"projects": [{"name": "a", "timeoutInMinutes": 5}]}"#)
            .expect("wrapped");
        assert_eq!(wrapped.get("a").and_then(|p| p.timeout_in_minutes), Some(5));
    }

    #[test]
    fn bad_field_names_its_path() {
        let err = load_catalog("projects:\n  - name: a\n    timeoutInMinutes: soon\n")
            .expect_err("bad type");
        assert!(err.to_string().contains("projects[0].timeoutInMinutes"), "{err}");
    }
}
