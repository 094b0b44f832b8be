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
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let tmp = path.with_extension(format!(
        "{}.tmp{}",
        path.extension().and_then(|e| e.to_str()).unwrap_or(""),
        std::process::id()
    ));
    {
        let mut f = fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(bytes).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
    }
    fs::rename(&tmp, path).map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let base = std::env::temp_dir().join(format!("tilesim-write-file-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        fs::create_dir_all(&base).unwrap();
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
        let base = std::env::temp_dir().join(format!("tilesim-write-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        fs::create_dir_all(&base).unwrap();
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
}
