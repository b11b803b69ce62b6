//! Packing and restoring real trees: links, modes, what is in the way.

use std::path::PathBuf;

use kiln_core::artifacts::{EntryKind, SelectedFile};

use super::super::pack::{ArchiveEntry, pack};
use super::*;

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(p).expect("metadata").permissions().mode() & 0o7777
}

#[test]
fn a_tree_with_links_round_trips_without_special_bits() {
    let dir = tempfile::tempdir().expect("dir");
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("nm/pkg/bin")).expect("mkdir");
    std::fs::create_dir_all(src.join("nm/.bin")).expect("mkdir");
    std::fs::write(src.join("nm/pkg/bin/cli.js"), b"#!/usr/bin/env node\n").expect("write");
    let exec = std::os::unix::fs::PermissionsExt::from_mode(0o4751);
    std::fs::set_permissions(src.join("nm/pkg/bin/cli.js"), exec).expect("chmod");
    std::os::unix::fs::symlink("../pkg/bin/cli.js", src.join("nm/.bin/cli")).expect("link");
    let files = [
        ("nm/pkg/bin/cli.js", EntryKind::File),
        ("nm/.bin/cli", EntryKind::Symlink("../pkg/bin/cli.js".into())),
    ];
    let entries: Vec<ArchiveEntry> = files
        .iter()
        .map(|(p, k)| ArchiveEntry {
            name: format!("s/{p}"),
            file: SelectedFile { source: src.join(p), path: (*p).to_owned(), kind: k.clone() },
        })
        .collect();
    let archive = dir.path().join("c.tar.zst");
    assert_eq!(pack(&entries, File::create(&archive).expect("create")).expect("pack"), 2);
    let fresh = dir.path().join("fresh");
    std::fs::create_dir_all(fresh.join("nm/.bin")).expect("mkdir");
    std::fs::write(fresh.join("nm/.bin/cli"), b"stale").expect("stale file in the way");
    let paths = CachePaths::new(&["nm".to_owned()], None);
    let restored = unpack(File::open(&archive).expect("open"), &paths, &fresh).expect("unpack");
    assert_eq!((restored.count, restored.skipped), (2, 0));
    assert_eq!(
        std::fs::read(fresh.join("nm/pkg/bin/cli.js")).expect("read"),
        b"#!/usr/bin/env node\n"
    );
    assert_eq!(mode(&fresh.join("nm/pkg/bin/cli.js")), 0o751);
    assert_eq!(
        std::fs::read_link(fresh.join("nm/.bin/cli")).expect("link"),
        PathBuf::from("../pkg/bin/cli.js")
    );

    let other = CachePaths::new(&["elsewhere".to_owned()], None);
    let restored = unpack(File::open(&archive).expect("open"), &other, &fresh).expect("unpack");
    assert_eq!(
        (restored.count, restored.skipped, restored.skips[0].reason),
        (0, 2, SkipReason::NotACachePath)
    );
}

#[test]
fn a_directory_in_the_way_skips_the_entry_and_big_files_stream() {
    let dir = tempfile::tempdir().expect("dir");
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("c")).expect("mkdir");
    let big = vec![7u8; usize::try_from(IN_MEMORY).expect("fits") + 10];
    std::fs::write(src.join("c/big"), &big).expect("write");
    std::fs::write(src.join("c/small"), b"s").expect("write");
    let entries: Vec<ArchiveEntry> = ["c/big", "c/small"]
        .iter()
        .map(|p| ArchiveEntry {
            name: format!("s/{p}"),
            file: SelectedFile {
                source: src.join(p),
                path: (*p).to_owned(),
                kind: EntryKind::File,
            },
        })
        .collect();
    let archive = dir.path().join("c.tar.zst");
    pack(&entries, File::create(&archive).expect("create")).expect("pack");
    let fresh = dir.path().join("fresh");
    std::fs::create_dir_all(fresh.join("c/big")).expect("a directory where a file goes");
    std::fs::create_dir_all(fresh.join("c/small")).expect("a directory where a file goes");
    let paths = CachePaths::new(&["c/**/*".to_owned()], None);
    let restored = unpack(File::open(&archive).expect("open"), &paths, &fresh).expect("unpack");
    assert_eq!((restored.count, restored.skipped), (0, 2));
    assert!(restored.skips.iter().all(|s| s.reason == SkipReason::DirectoryInTheWay));
    std::fs::remove_dir(fresh.join("c/big")).expect("rmdir");
    let restored = unpack(File::open(&archive).expect("open"), &paths, &fresh).expect("unpack");
    assert_eq!(restored.count, 1);
    assert_eq!(std::fs::read(fresh.join("c/big")).expect("read"), big);
}
