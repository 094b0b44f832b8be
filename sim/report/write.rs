//! Writing run outputs safely: each file goes to a temporary name and is renamed, so an
//! interrupted run never leaves a half-written report; a directory is reused only if
//! tilesim made it, so a user's files are never overwritten without `--force`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Name of the marker file tilesim puts in every output directory it creates.
pub const MARKER: &str = ".tilesim-output";

/// What the marker of a directory tilesim made says.
const MARKER_TEXT: &[u8] = b"written by tilesim; files here may be replaced by the next run\n";

/// Whether tilesim made `dir`: its marker says so. A sweep locks its directory through
/// the marker file, which it creates empty in a directory the user gave with `--force`:
/// an empty marker does not make the directory tilesim's, so a later start-over there
/// still leaves the user's files alone.
pub fn is_ours(dir: &Path) -> bool {
    fs::read(dir.join(MARKER)).is_ok_and(|t| t.starts_with(MARKER_TEXT))
}

/// Why outputs could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The directory has files tilesim did not write.
    #[error(
        "{dir} exists and was not created by tilesim; refusing to overwrite its files (use --force, or choose another --out)"
    )]
    NotOurs {
        /// Directory.
        dir: PathBuf,
    },
    /// The output path, or a directory on the way to it, is a file.
    #[error("{dir}: {what} is a file, not a directory (choose another --out)")]
    NotADirectory {
        /// Directory asked for.
        dir: PathBuf,
        /// `the path` or `a directory on the way to it`.
        what: &'static str,
    },
    /// I/O failure.
    #[error("{path}: {source}")]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

impl WriteError {
    /// True when the user's choice of directory is at fault.
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            WriteError::NotOurs { .. } | WriteError::NotADirectory { .. }
        )
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `name` (a workload's, machine's or study's) as one directory name: every character
/// but ASCII letters, digits, `.`, `_` and `-` becomes `_`, and a name of dots only gets a
/// leading `_`, so a default output directory stays inside `reports/` whatever the name.
pub fn dir_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.chars().all(|c| c == '.') {
        format!("_{s}")
    } else {
        s
    }
}

/// Creates `dir` (or reuses it if tilesim made it, or `force`), and marks it as tilesim's
/// unless it holds files tilesim did not make.
pub fn prepare_dir(dir: &Path, force: bool) -> Result<(), WriteError> {
    if dir.exists() && !dir.is_dir() {
        return Err(WriteError::NotADirectory {
            dir: dir.to_path_buf(),
            what: "the path",
        });
    }
    // A directory with the user's files in it, written into with --force, stays theirs:
    // marked as tilesim's, the next --force there would treat their files as tilesim's.
    let mut claim = true;
    if dir.exists() {
        let ours = is_ours(dir);
        let empty = fs::read_dir(dir).map_err(io(dir))?.next().is_none();
        if !ours && !empty {
            if !force {
                return Err(WriteError::NotOurs {
                    dir: dir.to_path_buf(),
                });
            }
            claim = false;
        }
    } else {
        fs::create_dir_all(dir).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotADirectory {
                WriteError::NotADirectory {
                    dir: dir.to_path_buf(),
                    what: "a directory on the way to it",
                }
            } else {
                io(dir)(e)
            }
        })?;
    }
    if claim {
        let marker = dir.join(MARKER);
        fs::write(&marker, MARKER_TEXT).map_err(io(&marker))?;
    }
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file and a rename.
///
/// A symbolic link is written through: the file it names gets the bytes and the link
/// stays. A path that is not a regular file (a named pipe, or a device such as
/// `/dev/stdout`) is written in place, since renaming a file onto it would replace it.
/// If the write fails, the temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let is_link = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    let target = if is_link {
        match fs::canonicalize(path) {
            Ok(t) => t,
            // A link to nothing yet: opening it creates the file it names.
            Err(_) => return write_in_place(path, bytes),
        }
    } else {
        path.to_path_buf()
    };
    if fs::metadata(&target).is_ok_and(|m| !m.is_file()) {
        return write_in_place(&target, bytes);
    }
    let tmp = target.with_extension(format!(
        "{}.tmp{}",
        target.extension().and_then(|e| e.to_str()).unwrap_or(""),
        std::process::id()
    ));
    let written = fs::File::create(&tmp)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .map_err(io(&tmp))
        .and_then(|()| fs::rename(&tmp, &target).map_err(io(path)));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// Writes `bytes` into `path` as it is (no temporary file).
fn write_in_place(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    fs::File::create(path)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.flush()
        })
        .map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh scratch directory for one test.
    fn scratch(test: &str) -> PathBuf {
        let base = std::env::temp_dir().join(format!("tilesim-{test}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        fs::create_dir_all(&base).unwrap();
        base
    }

    #[test]
    fn names_become_one_safe_directory_name() {
        assert_eq!(dir_name("mlp-continual"), "mlp-continual");
        assert_eq!(dir_name("../../../tmp/evil"), ".._.._.._tmp_evil");
        assert_eq!(dir_name(".."), "_..");
        assert_eq!(dir_name(""), "_");
        assert_eq!(dir_name("a b/c\\d"), "a_b_c_d");
    }

    #[test]
    fn a_file_where_the_directory_should_be_is_the_users_input() {
        let base = scratch("write-file");
        let f = base.join("afile");
        fs::write(&f, b"mine").unwrap();
        for dir in [f.clone(), f.join("below")] {
            let e = prepare_dir(&dir, true).unwrap_err();
            assert!(e.is_input_error(), "{e}");
            assert!(e.to_string().contains("is a file"), "{e}");
        }
        assert_eq!(fs::read(&f).unwrap(), b"mine");
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn refuses_foreign_directory_and_accepts_its_own() {
        let base = scratch("write");
        fs::write(base.join("notes.txt"), "mine").unwrap();
        assert!(matches!(
            prepare_dir(&base, false),
            Err(WriteError::NotOurs { .. })
        ));
        let own = base.join("run");
        prepare_dir(&own, false).unwrap();
        write_atomic(&own.join("report.json"), b"{}").unwrap();
        prepare_dir(&own, false).unwrap();
        assert_eq!(fs::read(own.join("report.json")).unwrap(), b"{}");
        fs::remove_dir_all(&base).unwrap();
    }

    fn is_link(path: &Path) -> bool {
        fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
    }

    #[cfg(unix)]
    #[test]
    fn a_link_is_written_through_and_a_failed_write_leaves_no_temporary_file() {
        let base = scratch("write-link");
        let target = base.join("target.json");
        fs::write(&target, b"old").unwrap();
        let link = base.join("link.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(is_link(&link));
        assert_eq!(fs::read(&target).unwrap(), b"new");
        // A dangling link: the file it names is created.
        let dangling = base.join("dangling.json");
        std::os::unix::fs::symlink(base.join("later.json"), &dangling).unwrap();
        write_atomic(&dangling, b"x").unwrap();
        assert!(is_link(&dangling));
        assert_eq!(fs::read(base.join("later.json")).unwrap(), b"x");
        // A directory where the file should go: the rename fails, and nothing is left.
        let dir = base.join("adir.json");
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join("keep"), b"k").unwrap();
        assert!(write_atomic(&dir, b"y").is_err());
        let left: Vec<_> = fs::read_dir(&base)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.contains(".tmp"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
        assert_eq!(fs::read(dir.join("keep")).unwrap(), b"k");
        fs::remove_dir_all(&base).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_device_is_written_in_place_not_replaced() {
        // /dev/null stays a character device.
        use std::os::unix::fs::FileTypeExt;
        write_atomic(Path::new("/dev/null"), b"nothing").unwrap();
        assert!(
            fs::metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_char_device()
        );
    }
}
