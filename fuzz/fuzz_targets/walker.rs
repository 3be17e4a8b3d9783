//! Any directory tree, built from the input, through the walker: files with any name
//! bytes (recognised or not), subdirectories, hidden entries, links to files, to
//! directories (loops included) and to nothing, and named pipes. The walk never panics
//! or hangs, returns each readable recognised file once in path order, and names every
//! other recognised entry in a warning.
#![no_main]

use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use storyhash::input::{resolve_sources, Source};

fuzz_target!(|data: &[u8]| {
    let Ok(root) = tempfile::tempdir() else {
        return;
    };
    let mut dirs: Vec<PathBuf> = vec![root.path().to_path_buf()];
    let mut made: Vec<PathBuf> = Vec::new();
    // Each operation: a kind byte, a parent byte, a name length byte, the name.
    let mut rest = data;
    while let [kind, parent, len, tail @ ..] = rest {
        let len = usize::from(*len % 16).min(tail.len());
        let (name, after) = tail.split_at(len);
        rest = after;
        let name: Vec<u8> = name.iter().map(|&b| if b == b'/' || b == 0 { b'_' } else { b }).collect();
        if name.is_empty() || name == b"." || name == b".." {
            continue;
        }
        let dir = &dirs[usize::from(*parent) % dirs.len()];
        let path = dir.join(std::ffi::OsStr::from_bytes(&name));
        let target = |i: usize| made.get(i % made.len().max(1)).cloned();
        let _ = match kind % 6 {
            0 => std::fs::write(path.with_extension("jsonl"), "{\"text\":\"a b c\"}\n"),
            1 => std::fs::write(&path, "plain"),
            2 => std::fs::create_dir(&path).map(|()| dirs.push(path.clone())),
            3 => match target(usize::from(*parent)) {
                Some(t) => std::os::unix::fs::symlink(t, path.with_extension("txt")),
                None => Ok(()),
            },
            4 => std::os::unix::fs::symlink(root.path(), &path),
            _ => std::os::unix::fs::symlink(root.path().join("nothing"), path.with_extension("jsonl")),
        };
        made.push(path);
    }
    let mut warnings = Vec::new();
    if let Ok(files) = resolve_sources(&[Source::Path(root.path().to_path_buf())], &mut warnings) {
        assert!(files.windows(2).all(|w| w[0].path < w[1].path), "sorted, each once");
        assert!(files.iter().all(|f| f.path.is_file()));
    }
});
