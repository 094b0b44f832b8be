//! `tilesim sweep` and `tilesim merge` as a user runs them: points in parallel, shards
//! that merge into the single-machine table, resume after an interruption, and study
//! errors reported before anything runs.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

fn tilesim() -> Command {
    Command::cargo_bin("tilesim").expect("binary builds")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scratch(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tilesim-sweep-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A study of the small continual workload: 3 × 2 points (learning tiles × perturbations).
fn study(dir: &Path, axes: &str) -> PathBuf {
    let f = dir.join("study.ron");
    std::fs::write(
        &f,
        format!(
            "// test study\nStudy(\n    name: \"small\",\n    arch: \"{}\",\n    workload: \"{}\",\n    axes: [\n{axes}\n    ],\n)\n",
            root().join("arch/xdna2-strix-halo.ron").display(),
            root().join("tests/data/specs/small-continual.ron").display(),
        ),
    )
    .unwrap();
    f
}

const AXES: &str = "        (path: \"workload.partitions[1].tiles\", values: [1, 2, 4], format: \"Count({})\"),\n        (path: \"workload.partitions[1].method.perturbations\", values: [1, 2]),";

fn sweep(study: &Path, out: &Path, extra: &[&str]) -> Output {
    tilesim()
        .arg("sweep")
        .arg(study)
        .arg("--out")
        .arg(out)
        .arg("--jobs")
        .arg("2")
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn shards_merge_into_the_single_machine_table() {
    let d = scratch("shards");
    let s = study(&d, AXES);
    let o = sweep(&s, &d.join("all"), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let all = std::fs::read_to_string(d.join("all/results.csv")).unwrap();
    assert_eq!(all.lines().count(), 7, "{all}");
    assert!(all.starts_with(
        "index,workload.partitions[1].tiles,workload.partitions[1].method.perturbations,status"
    ));
    // Point 3 is the second value of the first axis with the second of the second.
    assert!(
        all.lines().nth(4).unwrap().starts_with("3,Count(2),2,ok"),
        "{all}"
    );
    assert!(d.join("all/points/000005/report.json").exists());
    // results.jsonl ends in point order, whatever order the two jobs finished in.
    let indices: Vec<u64> = std::fs::read_to_string(d.join("all/results.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["index"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(indices, (0..6).collect::<Vec<u64>>());
    for i in 0..3 {
        let o = sweep(
            &s,
            &d.join(format!("s{i}")),
            &["--shard", &format!("{i}/3"), "--quiet"],
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    // A row past the study's points (from an edit or another study) is left out, and
    // said so.
    let s0 = d.join("s0/results.jsonl");
    let text = std::fs::read_to_string(&s0).unwrap();
    let mut stray: tilesim::study::Row =
        serde_json::from_str(text.lines().next().unwrap()).unwrap();
    stray.index = 99;
    std::fs::write(
        &s0,
        format!("{text}{}\n", serde_json::to_string(&stray).unwrap()),
    )
    .unwrap();
    let o = tilesim()
        .arg("merge")
        .args(["s0", "s1", "s2"].map(|x| d.join(x)))
        .arg("--out")
        .arg(d.join("merged"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let said = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        said.contains("6 of 6 points merged; 1 row(s) left out"),
        "{said}"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("merged/results.csv")).unwrap(),
        all
    );
    let merge = |dirs: &[&str], out: &str| {
        tilesim()
            .arg("merge")
            .args(dirs.iter().map(|x| d.join(x)))
            .arg("--out")
            .arg(d.join(out))
            .output()
            .unwrap()
    };
    // A row that claims point 1 (shard 1's) with point 2's values is not point 1: merged
    // first, it took point 1's place and point 1's row was dropped.
    let mut claim: tilesim::study::Row = serde_json::from_str(
        std::fs::read_to_string(d.join("s2/results.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claim.index, 2);
    claim.index = 1;
    let text = std::fs::read_to_string(&s0).unwrap();
    std::fs::write(
        &s0,
        format!("{text}{}\n", serde_json::to_string(&claim).unwrap()),
    )
    .unwrap();
    let o = merge(&["s0", "s1", "s2"], "claimed");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("6 of 6 points merged; 2 row(s) left out"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(
        std::fs::read_to_string(d.join("claimed/results.csv")).unwrap(),
        all
    );
    // A missing shard: the table of what there is, but exit code 2 and what to run.
    let o = merge(&["s0", "s1"], "partial");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("2 of 6 points are in none of the directories")
            && stderr(&o).contains("--shard I/N --resume"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read_to_string(d.join("partial/results.csv"))
            .unwrap()
            .lines()
            .count(),
        5
    );
    // The same point with other results in two directories: refused, not a guess.
    let s1b = d.join("s1b");
    std::fs::create_dir_all(&s1b).unwrap();
    for f in ["study.json", "results.jsonl"] {
        std::fs::copy(d.join("s1").join(f), s1b.join(f)).unwrap();
    }
    let edited = std::fs::read_to_string(s1b.join("results.jsonl"))
        .unwrap()
        .replacen(
            "\"simulated_seconds\":",
            "\"simulated_seconds\":1e9,\"x\":",
            1,
        );
    std::fs::write(s1b.join("results.jsonl"), edited).unwrap();
    let o = merge(&["s0", "s1", "s1b", "s2"], "conflict");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("has other results in"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn resume_runs_only_the_missing_points_and_results_are_never_overwritten_silently() {
    let d = scratch("resume");
    let s = study(&d, AXES);
    let out = d.join("r");
    assert!(sweep(&s, &out, &[]).status.success());
    let full = std::fs::read_to_string(out.join("results.csv")).unwrap();
    // An interrupted sweep: two finished points are missing from results.jsonl, and the
    // last line was cut.
    let jsonl = std::fs::read_to_string(out.join("results.jsonl")).unwrap();
    let lines: Vec<&str> = jsonl.lines().collect();
    let mut cut = lines[..3].join("\n");
    cut.push('\n');
    // A row that claims a missing point's index with values no point of this study has
    // (edited, or from another study) does not count as that point done.
    let kept: Vec<usize> = lines[..3]
        .iter()
        .map(|l| {
            serde_json::from_str::<tilesim::study::Row>(l)
                .unwrap()
                .index
        })
        .collect();
    let missing = (0..6).find(|i| !kept.contains(i)).unwrap();
    let mut fake: tilesim::study::Row = serde_json::from_str(lines[0]).unwrap();
    fake.index = missing;
    fake.values = vec!["Count(9)".into(), "7".into()];
    cut.push_str(&serde_json::to_string(&fake).unwrap());
    cut.push('\n');
    // A line of bytes that are not UTF-8 is skipped like any line that is not a row.
    let mut bytes = cut.into_bytes();
    bytes.extend_from_slice(b"\xff\xfe not text\n");
    bytes.extend_from_slice(&lines[3].as_bytes()[..lines[3].len() / 2]);
    std::fs::write(out.join("results.jsonl"), bytes).unwrap();
    let o = tilesim().arg("plot").arg(&out).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("2 line(s)"), "{}", stderr(&o));
    let o = sweep(&s, &out, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--resume"), "{}", stderr(&o));
    let o = sweep(&s, &out, &["--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let said = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(said.contains("3 run now"), "{said}");
    assert_eq!(
        std::fs::read_to_string(out.join("results.csv")).unwrap(),
        full
    );
    // Starting over with --force and a smaller study leaves no report of the old one's
    // points behind.
    let small = study(
        &d,
        "        (path: \"workload.partitions[1].tiles\", values: [1, 2], format: \"Count({})\"),",
    );
    let o = sweep(&small, &out, &["--force", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.join("points/000001/report.json").exists());
    assert!(!out.join("points/000002").exists());
    assert_eq!(
        std::fs::read_to_string(out.join("results.csv"))
            .unwrap()
            .lines()
            .count(),
        3
    );
}

/// Starting over in a directory tilesim made removes only the point reports it wrote: a
/// user's files under `points/` stay (they were all deleted). A refused `--resume` does
/// not mark a user's directory as tilesim's, so a later run still refuses to write there.
#[test]
fn starting_over_keeps_the_users_files_and_a_refused_resume_marks_nothing() {
    let d = scratch("keep");
    let s = study(&d, AXES);
    let out = d.join("r");
    assert!(sweep(&s, &out, &["--quiet"]).status.success());
    let mine = out.join("points/notes.txt");
    std::fs::write(&mine, "mine").unwrap();
    std::fs::write(out.join("points/000001/extra.txt"), "mine too").unwrap();
    let o = sweep(&s, &out, &["--force", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "mine");
    assert!(out.join("points/000001/extra.txt").exists());
    assert!(out.join("points/000001/report.json").exists());

    let theirs = d.join("mydata");
    std::fs::create_dir_all(&theirs).unwrap();
    std::fs::write(theirs.join("results.jsonl"), "x\n").unwrap();
    std::fs::write(theirs.join("report.json"), "precious").unwrap();
    let o = sweep(&s, &theirs, &["--resume"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = crate::support::run_small(&theirs, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(theirs.join("report.json")).unwrap(),
        "precious"
    );

    // A directory of the user's, swept into with --force twice: the first --force marked
    // it as tilesim's, so the second removed the user's point report as an earlier
    // study's.
    let users = d.join("users");
    std::fs::create_dir_all(users.join("points/000009")).unwrap();
    let notes = users.join("points/000009/report.json");
    std::fs::write(&notes, "my notes").unwrap();
    for _ in 0..2 {
        let o = sweep(&s, &users, &["--force", "--quiet"]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "my notes");
    // And it stays the user's: a run there still needs --force.
    let o = crate::support::run_small(&users, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// Resuming a directory with another shard counts that shard's points apart from the
/// ones already there ("6 of 3 points in shard 1/2").
#[test]
fn a_resume_with_another_shard_counts_each_shard_apart() {
    let d = scratch("shard-resume");
    let s = study(&d, AXES);
    let out = d.join("r");
    assert!(sweep(&s, &out, &["--shard", "0/2"]).status.success());
    let o = sweep(&s, &out, &["--shard", "1/2", "--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let said = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        said.contains("3 of 3 points in shard 1/2, and 3 of other shards"),
        "{said}"
    );
}

/// Each number of results.csv is the point's report.json number to the last bit: both are
/// read as text here with Rust's exact parser (the table took them from the report through a
/// parser that can miss the nearest double by one unit: final_loss ...9423 for ...9425).
#[test]
fn the_table_holds_the_reports_numbers_to_the_last_bit() {
    let d = scratch("bits");
    let s = d.join("study.ron");
    std::fs::write(
        &s,
        format!(
            "Study(name: \"bits\", arch: \"{}\", workload: \"{}\", axes: [\n\
             (path: \"workload.partitions[1].tiles\", values: [7, 8], format: \"Count({{}})\"),\n\
             (path: \"workload.stream.samples\", values: [20000]),\n])\n",
            root().join("arch/xdna2-strix-halo.ron").display(),
            root().join("workloads/mlp-continual.ron").display(),
        ),
    )
    .unwrap();
    let out = d.join("r");
    assert!(sweep(&s, &out, &["--quiet"]).status.success());
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let mut compared = 0;
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let report = std::fs::read_to_string(out.join(format!(
            "points/{:06}/report.json",
            cells[0].parse::<usize>().unwrap()
        )))
        .unwrap();
        for key in [
            "final_loss",
            "utilization",
            "macs_per_cycle",
            "simulated_seconds",
        ] {
            let col = header.iter().position(|h| *h == key).unwrap();
            let at = report.find(&format!("\"{key}\": ")).unwrap() + key.len() + 4;
            let text: String = report[at..]
                .chars()
                .take_while(|c| !matches!(c, ',' | '\n' | '}'))
                .collect();
            let want: f64 = text.trim().parse().unwrap();
            let got: f64 = cells[col].parse().unwrap();
            assert_eq!(
                got.to_bits(),
                want.to_bits(),
                "{key}: {got} in the table, {text} in the report"
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 2 * 4);
}

#[test]
fn an_edited_study_neither_resumes_nor_merges_into_the_old_one() {
    let d = scratch("edited");
    let one = "        (path: \"workload.batch\", values: [4, 8]),";
    let s = study(&d, one);
    let out = d.join("r");
    assert!(sweep(&s, &out, &[]).status.success());
    let before = std::fs::read_to_string(out.join("results.jsonl")).unwrap();
    // Same name, axis and point count, another value: resuming used to drop the batch=8
    // row and overwrite its point without a word.
    let s = study(&d, "        (path: \"workload.batch\", values: [4, 16]),");
    let o = sweep(&s, &out, &["--resume"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("other axis values or base specs"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read_to_string(out.join("results.jsonl")).unwrap(),
        before
    );
    // Shards of the two versions do not merge.
    let other = d.join("r2");
    assert!(sweep(&s, &other, &[]).status.success());
    let o = tilesim()
        .arg("merge")
        .arg(&out)
        .arg(&other)
        .arg("--out")
        .arg(d.join("m"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("holds another study"), "{}", stderr(&o));
    assert!(!d.join("m").exists());
}

#[test]
fn a_bad_axis_is_reported_with_the_study_files_position_before_anything_runs() {
    let d = scratch("bad");
    let s = study(
        &d,
        "        (path: \"workload.partitions[1].tiles\", values: [1], format: \"Count({})\"),\n        (path: \"workload.partitions[1].perturbation\", values: [1]),",
    );
    let o = sweep(&s, &d.join("r"), &[]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("study.ron:8:"), "{e}");
    assert!(e.contains("axes[1]") && e.contains("perturbation"), "{e}");
    assert!(!d.join("r").exists(), "nothing should run or be written");
    let s = study(
        &d,
        "        (path: \"arch.compute.l1_bytes\", range: (from: 8.0, to: 4.0, step: 1.0)),",
    );
    let o = sweep(&s, &d.join("r"), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("from <= to"), "{}", stderr(&o));
    // A value its field's own check refuses gets the hint `--set` gives for it: the range.
    let s = study(
        &d,
        "        (path: \"workload.partitions[0].format\", values: [16, 300], format: \"Some(Posit(n: {}, es: 2))\"),",
    );
    let o = sweep(&s, &d.join("r"), &[]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("study.ron:7:")
            && e.contains("n = 300 is out of range (valid: 2..=32)")
            && e.contains("hint: use a value in the range the message gives"),
        "{e}"
    );
    assert!(!d.join("r").exists(), "nothing should run or be written");
    // One field on two axes: the later would overwrite the earlier at every point.
    let s = study(
        &d,
        "        (path: \"workload.batch\", values: [1, 2]),\n        (path: \"workload.batch\", values: [4]),",
    );
    let o = sweep(&s, &d.join("r"), &[]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("study.ron:8:") && e.contains("already axes[0]"),
        "{e}"
    );
    assert!(!d.join("r").exists(), "nothing should run or be written");
}

#[test]
fn axes_too_long_to_count_are_refused_not_wrapped_to_no_points() {
    let d = scratch("overflow");
    // Four axes of 65 536 values: 2^64 points, which wrapped to 0 and ran nothing.
    let axis = |p: &str| format!("        (path: \"{p}\", range: (from: 1, to: 65536, step: 1)),");
    let s = study(
        &d,
        &[
            axis("seed"),
            axis("workload.stream.samples"),
            axis("workload.batch"),
            axis("arch.compute.l1_bytes"),
        ]
        .join("\n"),
    );
    let o = sweep(&s, &d.join("r"), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("65536 × 65536 × 65536 × 65536 values has more than 1000000 points")
            && e.contains("use fewer values per axis"),
        "{e}"
    );
    let o = tilesim().arg("check").arg(&s).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // An endless range says so instead of "has no values".
    let s = study(
        &d,
        "        (path: \"workload.batch\", range: (from: 1, to: inf, step: 1)),",
    );
    let o = sweep(&s, &d.join("r"), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("range has no end"), "{}", stderr(&o));
    assert!(!d.join("r").exists(), "nothing should run or be written");
}

#[test]
fn a_base_file_that_cannot_be_read_is_reported_where_the_study_names_it() {
    let d = scratch("no-base");
    let s = d.join("study.ron");
    std::fs::write(
        &s,
        "// test study\nStudy(\n    name: \"x\",\n    arch: \"nope.ron\",\n    workload: \"nope.ron\",\n    axes: [],\n)\n",
    )
    .unwrap();
    let o = sweep(&s, &d.join("r"), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("study.ron:4:5: arch: ") && e.contains("nope.ron: cannot read"),
        "{e}"
    );
    assert!(!d.join("r").exists());
    // An --out that is a file is refused, and the file kept.
    let s = study(&d, "        (path: \"workload.batch\", values: [8]),");
    let f = d.join("afile");
    std::fs::write(&f, "mine").unwrap();
    let o = sweep(&s, &f, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is a file"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "mine");
}

#[test]
fn a_point_that_does_not_fit_is_recorded_and_the_sweep_goes_on() {
    let d = scratch("fail");
    let s = study(
        &d,
        "        (path: \"workload.partitions[1].tiles\", values: [2, 64], format: \"Count({})\"),",
    );
    let o = sweep(&s, &d.join("r"), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(d.join("r/results.csv")).unwrap();
    assert!(csv.lines().nth(1).unwrap().contains(",ok,"), "{csv}");
    let failed = csv.lines().nth(2).unwrap();
    assert!(
        failed.contains(",error,") && failed.contains("compute tiles"),
        "{csv}"
    );
}

#[test]
fn check_validates_the_shipped_studies() {
    for e in std::fs::read_dir(root().join("reports")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().and_then(|x| x.to_str()) != Some("ron") {
            continue;
        }
        let o = tilesim().arg("check").arg(&path).output().unwrap();
        assert!(o.status.success(), "{}: {}", path.display(), stderr(&o));
        let said = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(said.contains("ok (study"), "{said}");
    }
}

#[test]
fn plot_draws_a_metric_against_an_axis_with_one_line_per_series() {
    let d = scratch("plot");
    let s = study(&d, AXES);
    let out = d.join("r");
    assert!(sweep(&s, &out, &[]).status.success());
    let o = tilesim()
        .arg("plot")
        .arg(&out)
        .args([
            "--x",
            "tiles",
            "--y",
            "learning_samples_per_s",
            "--series",
            "perturbations",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let svg = std::fs::read_to_string(out.join("learning_samples_per_s-vs-tiles.svg")).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..100.min(svg.len())]);
    assert!(svg.contains("learning_samples_per_s (1/s)"));
    assert!(svg.contains("perturbations = 1") && svg.contains("perturbations = 2"));
    let png = d.join("f.png");
    let o = tilesim()
        .arg("plot")
        .arg(&out)
        .args(["--x", "tiles", "--y", "macs_per_cycle", "--out"])
        .arg(&png)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    // A metric that does not exist lists the ones that do; an existing file is kept.
    let o = tilesim()
        .arg("plot")
        .arg(&out)
        .args(["--x", "tiles", "--y", "speed"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("inference_samples_per_s"),
        "{}",
        stderr(&o)
    );
    let o = tilesim()
        .arg("plot")
        .arg(&out)
        .args(["--x", "tiles", "--y", "macs_per_cycle", "--out"])
        .arg(&png)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn plot_skips_foreign_rows_and_refuses_values_no_axis_can_span() {
    let d = scratch("plot-bad-rows");
    let s = study(
        &d,
        "        (path: \"workload.partitions[1].tiles\", values: [1, 2], format: \"Count({})\"),",
    );
    let out = d.join("r");
    // Far more jobs than points: the pool takes one thread per point.
    let o = tilesim()
        .arg("sweep")
        .arg(&s)
        .arg("--out")
        .arg(&out)
        .args(["--jobs", "1000000000", "--quiet"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let jsonl = out.join("results.jsonl");
    let text = std::fs::read_to_string(&jsonl).unwrap();
    let first = text.lines().next().unwrap().to_string();
    let row: serde_json::Value = serde_json::from_str(&first).unwrap();
    // A row without axis values (not this study's) is skipped.
    let mut foreign = row.clone();
    foreign["index"] = 7.into();
    foreign["values"] = serde_json::json!([]);
    std::fs::write(&jsonl, format!("{text}{foreign}\n")).unwrap();
    let plot = |y: &str| {
        tilesim()
            .arg("plot")
            .arg(&out)
            .args(["--x", "tiles", "--y", y, "--force"])
            .output()
            .unwrap()
    };
    let o = plot("simulated_seconds");
    assert!(o.status.success(), "{}", stderr(&o));
    // A value near the largest float would overflow the axes: refused, not a hang.
    let mut huge = row;
    huge["index"] = 8.into();
    huge["metrics"]["simulated_seconds"] = 1e308.into();
    std::fs::write(&jsonl, format!("{text}{huge}\n")).unwrap();
    let o = plot("simulated_seconds");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("beyond"), "{}", stderr(&o));
    // A line that is no row is left out with a warning, not silently.
    std::fs::write(&jsonl, format!("{text}{{garbage\n")).unwrap();
    let o = plot("simulated_seconds");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning: 1 line(s)"), "{}", stderr(&o));
    // A report.json that does not parse is reported at its line:col.
    let bad = out.join("bad.json");
    std::fs::write(&bad, "{\"a\": 1,\n").unwrap();
    let o = tilesim().arg("plot").arg(&bad).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("bad.json:2:1: not a report.json") && stderr(&o).contains("hint:"),
        "{}",
        stderr(&o)
    );
    // A directory in the figure's place is refused, --force or not.
    std::fs::write(&jsonl, &text).unwrap();
    let d_svg = out.join("d.svg");
    std::fs::create_dir_all(&d_svg).unwrap();
    let o = tilesim()
        .arg("plot")
        .arg(&out)
        .args([
            "--x",
            "tiles",
            "--y",
            "simulated_seconds",
            "--force",
            "--out",
        ])
        .arg(&d_svg)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is a directory"), "{}", stderr(&o));
}

#[test]
fn a_seed_axis_runs_replicates_equal_to_runs_with_that_seed() {
    let d = scratch("seed-axis");
    let s = study(&d, "        (path: \"seed\", values: [3, 4]),");
    let out = d.join("r");
    let o = sweep(&s, &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    for (i, seed) in [(0, "3"), (1, "4")] {
        let point = std::fs::read(out.join(format!("points/{i:06}/report.json"))).unwrap();
        let o = tilesim()
            .arg("run")
            .arg(root().join("arch/xdna2-strix-halo.ron"))
            .arg(root().join("tests/data/specs/small-continual.ron"))
            .args(["--seed", seed, "--json", "--out"])
            .arg(d.join(format!("run{seed}")))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(point, o.stdout, "seed {seed}");
    }
    // A seed that is not a whole number is refused with the study's line:col.
    let bad = study(&d, "        (path: \"seed\", values: [1.5]),");
    let o = sweep(&bad, &d.join("bad"), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a whole number"), "{}", stderr(&o));
    assert!(stderr(&o).contains("study.ron:"), "{}", stderr(&o));
}

#[test]
fn plot_without_axes_draws_the_default_set_of_every_varying_metric() {
    let d = scratch("plot-default");
    let s = study(&d, AXES);
    // A dot in the directory's name (as a study named `lr-0.01` gives) is no file's
    // extension.
    let out = d.join("lr-0.01");
    assert!(sweep(&s, &out, &[]).status.success());
    let o = tilesim().arg("plot").arg(&out).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8(o.stdout).unwrap();
    // Learning throughput varies with the learning tiles; the product of the two axes
    // gives one line per perturbation count.
    let svg = std::fs::read_to_string(out.join("learning_samples_per_s-vs-tiles.svg")).unwrap();
    assert!(svg.contains("perturbations = 1") && svg.contains("perturbations = 2"));
    // A figure for exactly the metrics that have a value at every point and vary.
    let rows: Vec<tilesim::study::Row> = std::fs::read_to_string(out.join("results.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names = std::iter::once("peak_l1_bytes_per_tile")
        .chain(tilesim::study::METRICS.iter().map(|(m, _)| *m));
    let mut drawn = 0;
    for (i, name) in names.enumerate() {
        let vals: Vec<Option<f64>> = rows
            .iter()
            .map(|r| {
                if i == 0 {
                    r.peak_l1_bytes_per_tile.map(|v| v as f64)
                } else {
                    r.metrics[i - 1]
                }
            })
            .collect();
        let varies = vals.iter().all(Option::is_some) && vals.iter().any(|v| *v != vals[0]);
        let file = out.join(format!("{name}-vs-tiles.svg"));
        assert_eq!(file.exists(), varies, "{name}: {vals:?}");
        drawn += usize::from(varies);
    }
    assert!(drawn >= 3);
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("wrote")).count(),
        drawn
    );
    // Again: kept without --force, exit 2; only --x is an error too.
    let o = tilesim().arg("plot").arg(&out).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let o = tilesim()
        .arg("plot")
        .arg(&out)
        .args(["--x", "tiles"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("or neither"), "{}", stderr(&o));
    // Without axes, --out named like a figure file is refused: the set is several files.
    let o = tilesim()
        .arg("plot")
        .arg(&out)
        .arg("--out")
        .arg(d.join("one.svg"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("names a directory"), "{}", stderr(&o));
    // A size outside the drawable range names the range.
    let o = tilesim()
        .arg("plot")
        .arg(&out)
        .args(["--x", "tiles", "--y", "macs_per_cycle", "--size", "100x100"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("200 to 8000"), "{}", stderr(&o));
}

#[test]
fn plot_without_axes_of_a_study_where_nothing_varies_says_so() {
    // One point: no metric varies, so the default set has nothing to draw.
    let d = scratch("plot-one-point");
    let s = study(
        &d,
        "        (path: \"workload.partitions[1].tiles\", values: [2], format: \"Count({})\"),",
    );
    let out = d.join("r");
    let o = sweep(&s, &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = tilesim().arg("plot").arg(&out).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no metric varies across the 1 finished point"),
        "{}",
        stderr(&o)
    );
    assert!(
        !std::fs::read_dir(&out)
            .unwrap()
            .any(|e| { e.unwrap().path().extension().is_some_and(|x| x == "svg") })
    );
}

#[test]
fn plot_of_a_report_draws_the_l1_heat_map_and_the_loss_curve() {
    let d = scratch("plot-run");
    let o = tilesim()
        .arg("run")
        .arg(root().join("arch/xdna2-strix-halo.ron"))
        .arg(root().join("workloads/teacher-student-drift.ron"))
        .arg("--out")
        .arg(d.join("r"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let o = tilesim()
        .arg("plot")
        .arg(d.join("r/report.json"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let heat = std::fs::read_to_string(d.join("r/l1-peak.svg")).unwrap();
    assert!(heat.contains("peak memory occupancy") && heat.contains("learn"));
    let loss = std::fs::read_to_string(d.join("r/loss-curve.svg")).unwrap();
    assert!(loss.contains("held-out loss"));
    // Again without --force: kept, exit 2.
    let o = tilesim()
        .arg("plot")
        .arg(d.join("r/report.json"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    // --out names the directory the figures go to (it used to be ignored).
    let o = tilesim()
        .arg("plot")
        .arg(d.join("r/report.json"))
        .args(["--format", "png", "--out"])
        .arg(d.join("figs"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(d.join("figs/l1-peak.png").exists() && d.join("figs/loss-curve.png").exists());
    assert!(!d.join("r/l1-peak.png").exists());
    // A sweep's options are refused rather than ignored.
    let o = tilesim()
        .arg("plot")
        .arg(d.join("r/report.json"))
        .args(["--x", "tiles", "--y", "macs_per_cycle"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("a run's report draws its own"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_diverging_point_has_its_sample_count_in_the_table_and_old_array_rows_still_resume() {
    let d = scratch("diverged");
    let s = study(
        &d,
        "        (path: \"workload.optimizer\", values: [\"Some(Sgd(lr: 1e300, apply_every: 4))\", \"Some(Sgd(lr: 0.01, apply_every: 4))\"]),\n        (path: \"workload.stream.samples\", values: [16000]),",
    );
    let out = d.join("r");
    let o = sweep(&s, &out, &["--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    // Counted from the end: the optimizer values hold commas (quoted), the metrics do not.
    let col = header.len()
        - header
            .iter()
            .position(|h| *h == "diverged_at_samples")
            .expect("a diverged_at_samples column");
    let cell = |row: usize| {
        let cells: Vec<&str> = csv.lines().nth(row + 1).unwrap().split(',').collect();
        cells[cells.len() - col].to_string()
    };
    let at: f64 = cell(0).parse().expect("the lr 1e300 point diverges");
    assert!(at > 0.0, "{csv}");
    assert_eq!(cell(1), "", "{csv}");
    // Rows are keyed by metric name.
    let jsonl = std::fs::read_to_string(out.join("results.jsonl")).unwrap();
    let row: serde_json::Value = jsonl
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| r["index"] == 0)
        .unwrap();
    assert_eq!(row["metrics"]["diverged_at_samples"].as_f64(), Some(at));
    // A results file written before rows named their metrics (a bare array in the earlier
    // order) is read in that order: --resume keeps its rows instead of running them again.
    let old: String = jsonl
        .lines()
        .map(|l| {
            let mut r: serde_json::Value = serde_json::from_str(l).unwrap();
            let by_name = r["metrics"].as_object().unwrap().clone();
            r["metrics"] = tilesim::study::metrics::METRICS_BEFORE_NAMES
                .iter()
                .map(|n| by_name[*n].clone())
                .collect();
            format!("{r}\n")
        })
        .collect();
    std::fs::write(out.join("results.jsonl"), &old).unwrap();
    std::fs::remove_dir_all(out.join("points")).unwrap();
    let o = sweep(&s, &out, &["--resume", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !out.join("points/000000").exists(),
        "nothing should run again"
    );
    let again = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let keep = |t: &str| {
        t.lines()
            .map(|l| {
                let mut cells: Vec<&str> = l.split(',').collect();
                cells.remove(cells.len() - col);
                cells.join(",")
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(keep(&again), keep(&csv));
}

#[test]
fn axis_integers_above_i64_stay_whole() {
    let d = scratch("big-ints");
    let s = study(
        &d,
        "        (path: \"seed\", values: [9223372036854775808, 18446744073709551615]),",
    );
    let out = d.join("r");
    let o = sweep(&s, &out, &["--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert!(csv.contains("\n0,9223372036854775808,ok,"), "{csv}");
    assert!(csv.contains("\n1,18446744073709551615,ok,"), "{csv}");
    let report = std::fs::read_to_string(out.join("points/000000/report.json")).unwrap();
    assert!(
        report.contains("\"seed\": 9223372036854775808,"),
        "{report}"
    );
}

#[test]
fn a_second_sweep_into_a_directory_in_use_is_refused() {
    let d = scratch("locked");
    let s = study(
        &d,
        "        (path: \"workload.stream.samples\", values: [64]),",
    );
    let out = d.join("r");
    assert!(sweep(&s, &out, &["--quiet"]).status.success());
    // Another sweep holds the directory: the lock a sweep takes on its marker file.
    let held = std::fs::OpenOptions::new()
        .append(true)
        .open(out.join(".tilesim-output"))
        .unwrap();
    held.try_lock().unwrap();
    for extra in [&["--force", "--quiet"][..], &["--resume", "--quiet"][..]] {
        let o = sweep(&s, &out, extra);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("another tilesim sweep"),
            "{}",
            stderr(&o)
        );
    }
    drop(held);
    let o = sweep(&s, &out, &["--force", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn axes_that_set_one_field_and_overlong_value_lists_are_refused() {
    let d = scratch("overlap");
    let s = study(
        &d,
        "        (path: \"workload.stream.samples\", values: [64, 4096]),\n        (path: \"workload.stream\", values: [\"(samples: 128)\"]),",
    );
    let o = sweep(&s, &d.join("r"), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("study.ron:8:") && stderr(&o).contains("set the same field"),
        "{}",
        stderr(&o)
    );
    let many: Vec<String> = (0..100_001).map(|i| i.to_string()).collect();
    let s = study(
        &d,
        &format!("        (path: \"seed\", values: [{}]),", many.join(",")),
    );
    let o = sweep(&s, &d.join("r"), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("more than 100000"), "{}", stderr(&o));
    assert!(!d.join("r").exists());
}

#[test]
fn range_and_log_axes_give_the_values_as_written() {
    let d = scratch("range-values");
    let s = study(
        &d,
        "        (path: \"workload.optimizer.lr\", range: (from: 0.1, to: 0.7, step: 0.1)),",
    );
    let out = d.join("r");
    let o = sweep(&s, &out, &["--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let lrs: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    // Not 0.30000000000000004 nor 0.7000000000000001, which is past `to`.
    assert_eq!(lrs, ["0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7"]);
    // A log axis keeps its ends as written.
    let s = study(
        &d,
        "        (path: \"workload.optimizer.lr\", log: (from: 0.001, to: 0.123456789012345, points: 2)),",
    );
    let o = sweep(&s, &d.join("l"), &["--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(d.join("l/results.csv")).unwrap();
    assert!(csv.contains("\n1,0.123456789012345,"), "{csv}");
    // Whole numbers past 2^53 are not all floats: such a range is refused.
    let s = study(
        &d,
        "        (path: \"seed\", range: (from: 9007199254740993, to: 9007199254740995, step: 1)),",
    );
    let o = sweep(&s, &d.join("x"), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("beyond 2^53"), "{}", stderr(&o));
}

/// A study read from a pipe (`/dev/stdin`) has no directory of its own: its arch and
/// workload paths start at the current directory.
#[cfg(unix)]
#[test]
fn a_piped_study_names_its_files_from_the_current_directory() {
    let text = format!(
        "Study(name: \"piped\", arch: \"arch/xdna2-strix-halo.ron\", workload: \
         \"tests/data/specs/small-continual.ron\", axes: [\n{AXES}\n])"
    );
    let o = tilesim()
        .current_dir(root())
        .args(["check", "/dev/stdin"])
        .write_stdin(text)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("ok (study piped, 6 points)"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

/// A study file may leave out its top-level name, as RON allows and `sweep` accepts:
/// `check` takes it for a study too (it said the file was neither a machine nor a
/// workload).
#[test]
fn check_takes_an_unnamed_study_for_a_study() {
    let d = scratch("unnamed");
    let s = study(&d, AXES);
    let text = std::fs::read_to_string(&s).unwrap();
    assert!(text.contains("\nStudy(\n"));
    std::fs::write(&s, text.replace("\nStudy(\n", "\n(\n")).unwrap();
    let o = tilesim().arg("check").arg(&s).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("ok (study small, 6 points)"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // run takes it for what it is, as it does a named one.
    let out = d.join("not-run");
    let args = [s.to_str().unwrap(), "--out", out.to_str().unwrap()];
    crate::support::fails_with("run", &args, &["this is a study file"]);
    // And with a mistake in it, check says what the mistake is, as sweep does.
    let text = std::fs::read_to_string(&s).unwrap();
    std::fs::write(&s, text.replace("method.perturbations", "method.nope")).unwrap();
    let o = tilesim().arg("check").arg(&s).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("nope") && !stderr(&o).contains("cannot tell"),
        "{}",
        stderr(&o)
    );
    // A mistake that stops it parsing as a study: its arch and workload fields name files,
    // so it is still a study, with the mistake named as sweep names it (not a run's record).
    std::fs::write(
        &s,
        text.replacen("    axes: [", "    combine: Zipp,\n    axes: [", 1),
    )
    .unwrap();
    let o = tilesim().arg("check").arg(&s).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        !stderr(&o).contains("`Run`") && stderr(&o).contains("Unexpected variant named `Zipp`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn contradictory_options_and_unusable_names_are_refused_before_anything_runs() {
    let d = scratch("sweep-options");
    let s = study(&d, AXES);
    let out = d.join("r");
    // --resume keeps what is there, --force starts over: not both.
    let o = sweep(&s, &out, &["--resume", "--force"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
    let o = tilesim()
        .arg("sweep")
        .arg(&s)
        .arg("--out")
        .arg(&out)
        .args(["--jobs", "0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!out.exists());
    // A file of another kind is named for what it is.
    let workload = root().join("tests/data/specs/small-continual.ron");
    crate::support::fails_with(
        "sweep",
        &[workload.to_str().unwrap()],
        &["this is a workload file, where a study file is expected"],
    );
    // The study's name names the default output directory: not empty, not too long.
    for (name, says) in [
        ("", "must not be empty"),
        (&*"s".repeat(101), "more than 100"),
    ] {
        let text = std::fs::read_to_string(&s)
            .unwrap()
            .replace("name: \"small\"", &format!("name: \"{name}\""));
        let f = d.join("named.ron");
        std::fs::write(&f, text).unwrap();
        let o = tilesim().arg("sweep").arg(&f).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("named.ron:3:") && err.contains(says), "{err}");
    }
}

#[test]
fn a_damaged_study_json_and_a_study_without_axes_are_explained() {
    let d = scratch("damaged-study-json");
    let s = study(&d, AXES);
    let out = d.join("r");
    assert!(sweep(&s, &out, &["--quiet"]).status.success());
    std::fs::write(out.join("study.json"), "{ not json").unwrap();
    let o = sweep(&s, &out, &["--resume"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("study.json is not as tilesim wrote it"),
        "{}",
        stderr(&o)
    );
    // merge and plot read it the same way: damaged is not the same as missing.
    let merge = tilesim()
        .arg("merge")
        .arg(&out)
        .arg("--out")
        .arg(d.join("merged"))
        .output()
        .unwrap();
    let plot = tilesim()
        .arg("plot")
        .arg(&out)
        .args(["--x", "seed", "--y", "final_loss", "--out"])
        .arg(d.join("f.svg"))
        .output()
        .unwrap();
    // A stray file among the directories (`merge shards/*`) is no sweep directory.
    std::fs::write(d.join("stray.out"), "x").unwrap();
    let stray = tilesim()
        .arg("merge")
        .arg(d.join("stray.out"))
        .arg("--out")
        .arg(d.join("merged"))
        .output()
        .unwrap();
    assert_eq!(stray.status.code(), Some(2), "{}", stderr(&stray));
    assert!(
        stderr(&stray).contains("is not a sweep directory"),
        "{}",
        stderr(&stray)
    );
    for o in [merge, plot] {
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("study.json is not as tilesim wrote it")
                && !stderr(&o).contains("not a sweep directory"),
            "{}",
            stderr(&o)
        );
    }
    // A study of one point, without axes: plot says why there is no figure.
    let none = study(&d, "");
    let out = d.join("one");
    assert!(sweep(&none, &out, &["--quiet"]).status.success());
    let o = tilesim().arg("plot").arg(&out).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the study has no axes"),
        "{}",
        stderr(&o)
    );
}
