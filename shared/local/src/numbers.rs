//! Build numbers on disk: one empty file per claimed number under
//! `DATA_DIR/numbers/<project>/`, created with `create_new` so two concurrent runs never get
//! the same number.

use std::path::Path;

use kiln_core::build::next_build_number;

/// Claims the next build number of `project` under `data_dir` (1 for the first build).
pub fn claim_build_number(data_dir: &Path, project: &str) -> std::io::Result<u64> {
    let dir = data_dir.join("numbers").join(sanitize(project));
    std::fs::create_dir_all(&dir)?;
    loop {
        let names: Vec<String> = std::fs::read_dir(&dir)?
            .filter_map(|e| e.ok().and_then(|e| e.file_name().into_string().ok()))
            .collect();
        let number = next_build_number(names.iter().map(String::as_str));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(dir.join(number.to_string()))
        {
            Ok(_) => return Ok(number),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// A project name as one safe path component.
fn sanitize(project: &str) -> String {
    project
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_up_and_survives_concurrency() {
        let dir = tempfile::tempdir().ok();
        let Some(dir) = dir else { return };
        assert_eq!(claim_build_number(dir.path(), "p").ok(), Some(1));
        assert_eq!(claim_build_number(dir.path(), "p").ok(), Some(2));
        assert_eq!(claim_build_number(dir.path(), "other").ok(), Some(1));
        let path = dir.path().to_path_buf();
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || claim_build_number(&path, "p").ok())
            })
            .collect();
        let mut got: Vec<u64> =
            handles.into_iter().filter_map(|h| h.join().ok().flatten()).collect();
        got.sort_unstable();
        assert_eq!(got, (3..=10).collect::<Vec<_>>());
    }
}
