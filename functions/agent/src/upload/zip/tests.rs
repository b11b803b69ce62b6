//! The ZIP writer against the `zip` crate and `unzip -t`.

use std::fs::{self, File};
use std::io::Read;

use kiln_core::artifacts::{EntryKind, SelectedFile};
use md5::Md5;
use sha2::{Digest, Sha256};

use super::*;
fn entries(root: &std::path::Path, files: &[(String, Vec<u8>)]) -> Vec<SelectedFile> {
    files
        .iter()
        .map(|(name, data)| {
            let p = root.join(name);
            fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            fs::write(&p, data).expect("write");
            SelectedFile { source: p, path: name.clone(), kind: EntryKind::File }
        })
        .collect()
}

fn random(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0]
        })
        .collect()
}

#[test]
fn archives_read_back_with_the_zip_crate_and_unzip() {
    let dir = tempfile::tempdir().expect("dir");
    let src = dir.path().join("src");
    let text = b"hello kiln\n".repeat(5000);
    let large = usize::try_from(LARGE_FILE).expect("fits");
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("empty.txt".into(), Vec::new()),
        ("text/a.txt".into(), text.clone()),
        ("bin/random.bin".into(), random(300_000, 7)),
        ("img/pic.png".into(), text.clone()),
        ("big/large.log".into(), b"0123456789abcdef".repeat(large / 16 + 1000)),
        ("big/large-random.bin".into(), random(large + 5, 9)),
        ("unicode/\u{e9}t\u{e9}.txt".into(), b"accents".to_vec()),
    ];
    for i in 0..1500 {
        files
            .push((format!("many/f{i:04}.txt"), format!("file {i}\n").repeat(i % 50).into_bytes()));
    }
    let mut list = entries(&src, &files);
    std::os::unix::fs::symlink("text/a.txt", src.join("link")).expect("symlink");
    list.push(SelectedFile {
        source: src.join("link"),
        path: "link".into(),
        kind: EntryKind::Symlink("text/a.txt".into()),
    });

    let out_path = dir.path().join("out.zip");
    let summary = write_zip(&list, File::create(&out_path).expect("create")).expect("zip");
    let bytes = fs::read(&out_path).expect("read");
    assert_eq!(summary.size, bytes.len() as u64);
    assert_eq!(summary.sha256, hex::encode(Sha256::digest(&bytes)));
    assert_eq!(summary.md5, hex::encode(Md5::digest(&bytes)));
    assert_eq!(summary.entries, list.len());

    let mut archive =
        zip::ZipArchive::new(File::open(&out_path).expect("open")).expect("zip crate reads it");
    assert_eq!(archive.len(), list.len());
    for (name, data) in &files {
        let mut f = archive.by_name(name).expect("entry");
        let mut got = Vec::new();
        f.read_to_end(&mut got).expect("read entry");
        assert_eq!(&got, data, "{name}");
    }
    let method = |archive: &mut zip::ZipArchive<File>, name: &str| {
        archive.by_name(name).expect("entry").compression()
    };
    assert_eq!(method(&mut archive, "bin/random.bin"), zip::CompressionMethod::Stored);
    assert_eq!(method(&mut archive, "big/large-random.bin"), zip::CompressionMethod::Stored);
    assert_eq!(method(&mut archive, "img/pic.png"), zip::CompressionMethod::Stored);
    assert_eq!(method(&mut archive, "text/a.txt"), zip::CompressionMethod::Deflated);
    assert_eq!(method(&mut archive, "big/large.log"), zip::CompressionMethod::Deflated);
    let link_mode = archive.by_name("link").expect("link").unix_mode();
    assert_eq!(link_mode.map(|m| m & 0o170_000), Some(0o120_000));

    match std::process::Command::new("unzip").arg("-tq").arg(&out_path).output() {
        Ok(o) => assert!(
            o.status.success(),
            "unzip -t: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(_) => eprintln!("skipping unzip -t: unzip is not installed"),
    }
}

#[test]
fn an_unreadable_input_is_an_error_not_a_hang() {
    let dir = tempfile::tempdir().expect("dir");
    let list = vec![SelectedFile {
        source: dir.path().join("gone"),
        path: "gone".into(),
        kind: EntryKind::File,
    }];
    let err = write_zip(&list, File::create(dir.path().join("o.zip")).expect("create"))
        .expect_err("missing");
    assert!(matches!(err, ZipError::Read { .. }));
}

#[test]
fn names_that_climb_or_are_absolute_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("f"), b"x").expect("write");
    for name in ["../state/restore.sh", "/etc/passwd", "a/../../b", "..\\x", "\\abs", ""] {
        let list = vec![SelectedFile {
            source: dir.path().join("f"),
            path: name.to_owned(),
            kind: EntryKind::File,
        }];
        let out = dir.path().join("o.zip");
        let err = write_zip(&list, File::create(&out).expect("create")).expect_err(name);
        assert!(matches!(err, ZipError::UnsafeName { .. }), "{name}: {err}");
        assert_eq!(fs::metadata(&out).expect("out").len(), 0, "{name}");
    }
    let ok = vec![SelectedFile {
        source: dir.path().join("f"),
        path: "a..b/..c".to_owned(),
        kind: EntryKind::File,
    }];
    assert!(write_zip(&ok, File::create(dir.path().join("ok.zip")).expect("create")).is_ok());
}

#[test]
fn a_link_where_a_file_was_listed_is_not_followed() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("secret"), b"x").expect("write");
    std::os::unix::fs::symlink(dir.path().join("secret"), dir.path().join("f")).expect("link");
    let list = vec![SelectedFile {
        source: dir.path().join("f"),
        path: "f".to_owned(),
        kind: EntryKind::File,
    }];
    let err = write_zip(&list, File::create(dir.path().join("o.zip")).expect("create"))
        .expect_err("a link is not a regular file");
    assert!(matches!(err, ZipError::Read { .. }), "{err}");
}
