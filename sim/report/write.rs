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

/// Where [`write_atomic`] puts the bytes for a path.
#[derive(Debug, PartialEq, Eq)]
enum Place {
    /// This process's standard output (1) or error (2), named as such (`/dev/stdout`,
    /// `/dev/fd/1`, `/proc/self/fd/1`, or a link to one of them).
    Stream(u8),
    /// A file that is not a regular file (a named pipe, a device) or a path under `/dev`
    /// or `/proc`: written in place, since renaming a file onto it would replace it.
    Overwrite(PathBuf),
    /// A regular file, or none yet: a temporary file beside it, renamed onto it. A link
    /// is followed to the file it names, and the link stays.
    Replace(PathBuf),
}

/// Where the bytes for `path` go, following its links.
fn place(path: &Path) -> Place {
    let mut p = path.to_path_buf();
    for _ in 0..32 {
        match p.to_str() {
            Some("/dev/stdout" | "/dev/fd/1" | "/proc/self/fd/1") => return Place::Stream(1),
            Some("/dev/stderr" | "/dev/fd/2" | "/proc/self/fd/2") => return Place::Stream(2),
            _ => {}
        }
        if p.starts_with("/dev") || p.starts_with("/proc") {
            return Place::Overwrite(p);
        }
        match fs::read_link(&p) {
            Ok(t) if t.is_absolute() => p = t,
            Ok(t) => p = p.parent().unwrap_or(Path::new("")).join(t),
            Err(_) => break,
        }
    }
    if fs::metadata(&p).is_ok_and(|m| !m.is_file()) {
        Place::Overwrite(p)
    } else {
        Place::Replace(p)
    }
}

/// Writes `bytes` to `path` so that an interrupted run never leaves a half-written file:
/// through a temporary file and a rename. A link is followed to the file it names (the
/// link stays); a device, a named pipe or a path under `/dev` or `/proc` is written in
/// place; this process's standard output or error, by any of their names
/// (`/dev/stdout`, `/dev/fd/1`, `/proc/self/fd/1`, or a link to one), is written to the
/// stream itself. If the write fails, the temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_with(path, |w| w.write_all(bytes))
}

/// As [`write_atomic`], with `write` producing the contents (a large trace streamed out
/// rather than held in memory).
pub fn write_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), WriteError> {
    match place(path) {
        Place::Stream(n) => {
            let written = if n == 1 {
                let mut out = std::io::stdout().lock();
                write(&mut out).and_then(|()| out.flush())
            } else {
                let mut err = std::io::stderr().lock();
                write(&mut err).and_then(|()| err.flush())
            };
            match written {
                // A reader that stopped reading (`| head`) is not a failure of the run.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.map_err(io(path)),
            }
        }
        Place::Overwrite(p) => fs::File::create(&p)
            .and_then(|mut f| {
                write(&mut f)?;
                f.flush()
            })
            .map_err(io(path)),
        Place::Replace(target) => replace(&target, write),
    }
}

/// Whether writing `path` would replace a regular file that exists (directly or through
/// links): what a command keeps unless `--force`. Devices, named pipes and the standard
/// streams are written to, not replaced.
pub fn replaces_a_file(path: &Path) -> bool {
    matches!(place(path), Place::Replace(p) if p.exists())
}

/// Replaces `target` with what `write` puts into a temporary file beside it; on any
/// failure the temporary file is removed and `target` is as it was.
fn replace(
    target: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), WriteError> {
    let tmp = target.with_extension(format!(
        "{}.tmp{}",
        target.extension().and_then(|e| e.to_str()).unwrap_or(""),
        std::process::id()
    ));
    let written = fs::File::create(&tmp)
        .and_then(|mut f| {
            write(&mut f)?;
            f.sync_all()
        })
        .map_err(io(&tmp))
        .and_then(|()| fs::rename(&tmp, target).map_err(io(target)));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
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
        // A failed write leaves no temporary file and the target as it was.
        let e = replace(&target, |f| {
            f.write_all(b"half")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(e.is_err());
        assert_eq!(fs::read(&target).unwrap(), b"new");
        let left: Vec<_> = fs::read_dir(&base)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.contains(".tmp"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
        fs::remove_dir_all(&base).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn the_standard_streams_and_devices_are_written_in_place_not_replaced() {
        // Named directly or through a link, stdout is this process's stream, not the file
        // or terminal a rename would replace.
        assert_eq!(place(Path::new("/dev/stdout")), Place::Stream(1));
        assert_eq!(place(Path::new("/proc/self/fd/2")), Place::Stream(2));
        let base = scratch("write-streams");
        let link = base.join("out.json");
        std::os::unix::fs::symlink("/dev/stdout", &link).unwrap();
        assert_eq!(place(&link), Place::Stream(1));
        let null = base.join("null");
        std::os::unix::fs::symlink("/dev/null", &null).unwrap();
        assert_eq!(place(&null), Place::Overwrite(PathBuf::from("/dev/null")));
        assert_eq!(place(&base), Place::Overwrite(base.clone()));
        assert_eq!(
            place(&base.join("new.json")),
            Place::Replace(base.join("new.json"))
        );
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
