//! `study.json`: what a sweep directory records about its study, written by `tilesim
//! sweep` and read back by `sweep --resume`, `merge` and `plot`, which all read it here.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use serde::{Deserialize, Serialize};

use super::CliError;

/// What a sweep directory says about its study, so shards can be checked to belong
/// together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct StudyInfo {
    /// The study's name.
    pub(super) name: String,
    /// Its axes' paths.
    pub(super) axes: Vec<String>,
    /// Its number of points.
    pub(super) points: usize,
    /// Every axis's values, as the points apply them (absent in directories written before
    /// they were recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) values: Option<Vec<Vec<String>>>,
    /// FNV-1a 64 of the base architecture, workload and seed the points change, in hex:
    /// an edit of the base files between shards or before `--resume` changes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) base: Option<String>,
}

impl StudyInfo {
    /// The description of `study` a sweep directory records.
    pub(super) fn of(study: &tilesim::study::Study) -> StudyInfo {
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        let specs = serde_json::to_string(&(&study.arch, &study.workload, study.spec.seed))
            .unwrap_or_default();
        for b in specs.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        StudyInfo {
            name: study.spec.name.clone(),
            axes: study.axes.iter().map(|(p, _)| p.clone()).collect(),
            points: study.points.len(),
            values: Some(study.axes.iter().map(|(_, v)| v.clone()).collect()),
            base: Some(format!("{h:016x}")),
        }
    }

    /// The study's points, from its axes' recorded values (none when it records no
    /// values, or values that do not make its count).
    pub(super) fn recorded_points(&self) -> Option<Vec<tilesim::study::Point>> {
        let values = self.values.as_ref()?;
        let axes: Vec<(String, Vec<String>)> = self
            .axes
            .iter()
            .cloned()
            .zip(values.iter().cloned())
            .collect();
        tilesim::study::points_of(&axes, self.points)
    }

    /// Whether two directories hold the same study: name, axes and point count equal, and
    /// the axes' values and the base specs too where both record them.
    pub(super) fn same_study(&self, other: &StudyInfo) -> bool {
        fn agree<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
            a.is_none() || b.is_none() || a == b
        }
        self.name == other.name
            && self.axes == other.axes
            && self.points == other.points
            && agree(&self.values, &other.values)
            && agree(&self.base, &other.base)
    }
}

/// Why a directory's `study.json` could not be read.
#[derive(Debug)]
enum InfoError {
    /// There is none (the path is no directory, or holds no `study.json` file).
    Missing,
    /// It could not be read: the user's to fix (no permission), with the OS's reason.
    Refused(PathBuf, std::io::Error),
    /// It could not be read (an I/O error).
    Io(PathBuf, std::io::Error),
    /// It is not as tilesim wrote it: not its JSON, or a record that contradicts itself.
    Damaged(PathBuf, String),
}

/// The `study.json` of sweep directory `dir`.
fn read(dir: &Path) -> Result<StudyInfo, InfoError> {
    use std::io::ErrorKind;
    let file = dir.join("study.json");
    let bytes = match std::fs::read(&file) {
        Ok(bytes) => bytes,
        Err(e) => {
            return Err(match e.kind() {
                ErrorKind::NotFound | ErrorKind::NotADirectory | ErrorKind::IsADirectory => {
                    InfoError::Missing
                }
                ErrorKind::PermissionDenied => InfoError::Refused(file, e),
                _ => InfoError::Io(file, e),
            });
        }
    };
    let info: StudyInfo = serde_json::from_slice(&bytes)
        .map_err(|e| InfoError::Damaged(file.clone(), e.to_string()))?;
    // A sweep records one list of values per axis, whose points (product or zip) number
    // `points`; anything else was edited after the sweep wrote it.
    if let Some(values) = &info.values
        && (values.len() != info.axes.len() || info.recorded_points().is_none())
    {
        return Err(InfoError::Damaged(
            file,
            format!(
                "its {} axes' values do not make its {} points",
                info.axes.len(),
                info.points
            ),
        ));
    }
    Ok(info)
}

/// The `study.json` of sweep directory `dir`, or the command's error: `missing` says what
/// a directory without one is, `hint` what to do about a damaged one.
pub(super) fn read_or_explain(
    dir: &Path,
    missing: impl FnOnce() -> String,
    hint: &str,
) -> Result<StudyInfo, CliError> {
    let input = |message: String| CliError::Input(anyhow!("{message}"));
    read(dir).map_err(|e| match e {
        InfoError::Missing => input(missing()),
        InfoError::Refused(file, e) => input(format!(
            "cannot read {} ({e}); hint: give a sweep directory you can read",
            file.display()
        )),
        InfoError::Io(file, e) => {
            CliError::Other(anyhow!(e).context(format!("cannot read {}", file.display())))
        }
        InfoError::Damaged(file, e) => input(format!(
            "{} is not as tilesim wrote it ({e}); hint: {hint}",
            file.display()
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_damaged_and_good_files_are_told_apart() {
        let dir = std::env::temp_dir().join(format!("tilesim-study-info-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let _ = std::fs::remove_file(dir.join("study.json"));
        assert!(matches!(read(&dir), Err(InfoError::Missing)));
        std::fs::write(dir.join("study.json"), "{\"name\": 1}").unwrap();
        assert!(matches!(read(&dir), Err(InfoError::Damaged(..))));
        // Values that do not make the recorded points: edited.
        std::fs::write(
            dir.join("study.json"),
            r#"{"name": "s", "axes": ["seed"], "points": 1, "values": [["1", "2"]]}"#,
        )
        .unwrap();
        assert!(matches!(read(&dir), Err(InfoError::Damaged(..))));
        // A file where the directory should be, or a directory named study.json: no
        // study there.
        assert!(matches!(
            read(&dir.join("study.json")),
            Err(InfoError::Missing)
        ));
        std::fs::write(
            dir.join("study.json"),
            r#"{"name": "s", "axes": ["seed"], "points": 3}"#,
        )
        .unwrap();
        let info = read(&dir).unwrap();
        assert_eq!((info.name.as_str(), info.points), ("s", 3));
        assert!(info.same_study(&StudyInfo {
            values: Some(vec![vec!["1".into()]]),
            ..info.clone()
        }));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
