//! The selection over hand-made listings: spec §8 T38–T45, links, `..` and what the walk is
//! asked to look into.

use std::path::Path;

use super::*;

/// A listing of `paths` in walk order: a trailing `/` marks a directory, `name -> target` a
/// link (leading to the file `target` inside when `target` has no `/` and no `..`, else
/// outside). Every directory on the way must be listed before its contents.
fn listing(paths: &[&str]) -> Vec<Listed> {
    paths
        .iter()
        .map(|p| {
            let (path, kind) = if let Some((name, target)) = p.split_once(" -> ") {
                let leads = if target.contains('/') || target.contains("..") {
                    LinkLeads::Outside
                } else {
                    LinkLeads::File(PathBuf::from("/src").join(target))
                };
                (name, ListedKind::Link { target: PathBuf::from(target), leads })
            } else if let Some(dir) = p.strip_suffix('/') {
                (dir, ListedKind::Dir)
            } else {
                (*p, ListedKind::File)
            };
            Listed { path: path.to_owned(), source: PathBuf::from("/src").join(path), kind }
        })
        .collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn paths(selected: &Selected) -> Vec<&str> {
    selected.files.iter().map(|f| f.path.as_str()).collect()
}

fn select(entries: &[Listed], selection: &Selection<'_>) -> Selected {
    Selector::new(selection).select(entries)
}

const MY_BUILD: [&str; 6] = [
    "my-build-1/",
    "my-build-1/my-file-1.txt",
    "my-build-2/",
    "my-build-2/my-file-2.txt",
    "my-build-2/my-subdirectory/",
    "my-build-2/my-subdirectory/my-file-3.txt",
];

#[test]
fn t38_base_directory_is_not_part_of_output_paths() {
    let l = listing(&["dist/", "dist/index.html", "dist/js/", "dist/js/app.js", "src/main.ts"]);
    let files = strings(&["**/*"]);
    let s = select(
        &l,
        &Selection { files: &files, base_directory: Some("dist"), ..Default::default() },
    );
    assert_eq!(paths(&s), ["index.html", "js/app.js"]);
    assert_eq!(s.files[1].source, PathBuf::from("/src/dist/js/app.js"));
}

#[test]
fn t39_discard_paths_flattens() {
    let l = listing(&["target/", "target/app.jar"]);
    let files = strings(&["target/app.jar"]);
    let s = select(&l, &Selection { files: &files, discard_paths: true, ..Default::default() });
    assert_eq!(paths(&s), ["app.jar"]);
}

#[test]
fn t40_star_stays_in_one_segment_under_a_base() {
    let l = listing(&MY_BUILD);
    let files = strings(&["*/my-file-3.txt"]);
    let sel = Selection { files: &files, base_directory: Some("my-build-2"), ..Default::default() };
    assert_eq!(paths(&select(&l, &sel)), ["my-subdirectory/my-file-3.txt"]);
}

#[test]
fn t41_base_directory_glob_merges_and_discards() {
    let l = listing(&MY_BUILD);
    let files = strings(&["**/*"]);
    let sel = Selection {
        files: &files,
        base_directory: Some("my-build*"),
        discard_paths: true,
        ..Default::default()
    };
    assert_eq!(paths(&select(&l, &sel)), ["my-file-1.txt", "my-file-2.txt", "my-file-3.txt"]);
    let sel = Selection { discard_paths: false, ..sel };
    assert_eq!(
        paths(&select(&l, &sel)),
        ["my-file-1.txt", "my-file-2.txt", "my-subdirectory/my-file-3.txt"]
    );
}

#[test]
fn t42_t43_missing_patterns_are_skipped() {
    let l = listing(&["a.txt"]);
    let files = strings(&["a.txt", "missing.txt"]);
    let s = select(&l, &Selection { files: &files, ..Default::default() });
    assert_eq!(paths(&s), ["a.txt"]);
    assert_eq!(s.skipped, ["missing.txt"]);
    let files = strings(&["does-not-exist.txt"]);
    let s = select(&l, &Selection { files: &files, ..Default::default() });
    assert!(s.files.is_empty());
    assert_eq!(s.skipped, ["does-not-exist.txt"]);
}

#[test]
fn t44_exclude_paths_are_relative_to_the_base() {
    let l = listing(&["dist/", "dist/a.js", "dist/a.js.map"]);
    let files = strings(&["**/*"]);
    let excl = strings(&["**/*.map"]);
    let sel = Selection {
        files: &files,
        base_directory: Some("dist"),
        exclude_paths: &excl,
        ..Default::default()
    };
    assert_eq!(paths(&select(&l, &sel)), ["a.js"]);
}

#[test]
fn t45_dir_star_selects_direct_children_only() {
    let l = listing(&["sub/", "sub/a", "sub/deep/", "sub/deep/b"]);
    let files = strings(&["sub/*"]);
    assert_eq!(paths(&select(&l, &Selection { files: &files, ..Default::default() })), ["sub/a"]);
}

#[test]
fn a_bare_directory_selects_its_tree_and_a_literal_exclude_its_subtree() {
    let l = listing(&[".hidden", "out/", "out/a", "out/skip/", "out/skip/c", "out/x/", "out/x/b"]);
    let files = strings(&["out", "*"]);
    let excl = strings(&["out/skip"]);
    let s = select(&l, &Selection { files: &files, exclude_paths: &excl, ..Default::default() });
    assert_eq!(paths(&s), [".hidden", "out/a", "out/x/b"]);
}

#[test]
fn discard_paths_collisions_keep_the_last_and_are_reported() {
    let l = listing(&["a/", "a/f.txt", "b/", "b/f.txt"]);
    let files = strings(&["**/*"]);
    let s = select(&l, &Selection { files: &files, discard_paths: true, ..Default::default() });
    assert_eq!(paths(&s), ["f.txt"]);
    assert_eq!(s.collisions, ["f.txt"]);
    assert!(s.files[0].source.ends_with("b/f.txt"));
}

#[test]
fn links_are_read_kept_or_refused() {
    let l =
        listing(&["in.txt -> real.txt", "out.txt -> /etc/passwd", "real.txt", "up.txt -> ../x"]);
    let files = strings(&["*.txt"]);
    let s = select(&l, &Selection { files: &files, ..Default::default() });
    assert_eq!(paths(&s), ["in.txt", "real.txt"]);
    assert_eq!(
        (s.files[0].source.as_path(), &s.files[0].kind),
        (Path::new("/src/real.txt"), &EntryKind::File)
    );
    let refused: Vec<(&str, RefusedReason)> =
        s.refused.iter().map(|r| (r.path.as_str(), r.reason)).collect();
    assert_eq!(
        refused,
        [("out.txt", RefusedReason::LinkOutside), ("up.txt", RefusedReason::LinkOutside)]
    );

    let s = select(&l, &Selection { files: &files, keep_symlinks: true, ..Default::default() });
    assert_eq!(paths(&s), ["in.txt", "real.txt"]);
    assert_eq!(s.files[0].kind, EntryKind::Symlink(PathBuf::from("real.txt")));
    assert_eq!(s.refused.len(), 2);
}

#[test]
fn paths_leading_outside_select_nothing_and_are_refused() {
    let l = listing(&["a.txt", "dist/", "dist/b.txt"]);
    let files =
        strings(&["../state/restore.sh", "/a.txt", "dist/../dist/b.txt", "dist/*/../../.."]);
    let excl = strings(&["../x"]);
    let s = select(&l, &Selection { files: &files, exclude_paths: &excl, ..Default::default() });
    assert_eq!(paths(&s), ["a.txt", "dist/b.txt"]);
    assert_eq!(s.skipped, ["../state/restore.sh", "dist/*/../../.."]);
    let refused: Vec<RefusedReason> = s.refused.iter().map(|r| r.reason).collect();
    assert_eq!(
        refused,
        [RefusedReason::FileOutside, RefusedReason::FileOutside, RefusedReason::ExcludeOutside]
    );
    let all = strings(&["**/*"]);
    for base in ["..", "dist/../..", "/../x"] {
        let sel = Selection { files: &all, base_directory: Some(base), ..Default::default() };
        let s = select(&l, &sel);
        assert!(s.files.is_empty(), "{base}");
        assert_eq!(s.refused[0].reason, RefusedReason::BaseOutside, "{base}");
    }
    let sel = Selection { files: &all, base_directory: Some("/dist"), ..Default::default() };
    assert_eq!(paths(&select(&l, &sel)), ["b.txt"]);
}

#[test]
fn the_walk_looks_only_where_something_may_be_selected() {
    let files = strings(&["target/app.jar", "docs/*.md"]);
    let s = Selector::new(&Selection { files: &files, ..Default::default() });
    assert!(s.wants_dir("") && s.wants_dir("target") && s.wants_dir("docs"));
    assert!(!s.wants_dir("node_modules") && !s.wants_dir("docs/deep"));
    assert!(s.wants_dir("target/app.jar/x"), "a literal path may name a directory");

    let all = strings(&["**/*"]);
    let s = Selector::new(&Selection {
        files: &all,
        base_directory: Some("my-build*"),
        ..Default::default()
    });
    assert!(s.wants_dir("") && s.wants_dir("my-build-1") && s.wants_dir("my-build-1/a/b"));
    assert!(!s.wants_dir("src"));
    let s =
        Selector::new(&Selection { files: &all, base_directory: Some(".."), ..Default::default() });
    assert!(!s.wants_dir(""));
}

#[test]
fn directory_links_are_followed_without_keep_symlinks_or_on_the_way_to_a_base() {
    let all = strings(&["**/*"]);
    let follow = Selector::new(&Selection { files: &all, ..Default::default() });
    assert!(follow.follows_dir_link("current"));
    let keep = Selector::new(&Selection { files: &all, keep_symlinks: true, ..Default::default() });
    assert!(!keep.follows_dir_link("current"));
    let based = Selector::new(&Selection {
        files: &all,
        base_directory: Some("out/dist"),
        keep_symlinks: true,
        ..Default::default()
    });
    assert!(based.follows_dir_link("out") && based.follows_dir_link("out/dist"));
    assert!(!based.follows_dir_link("out/dist/x") && !based.follows_dir_link("other"));
}
