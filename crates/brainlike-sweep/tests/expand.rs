//! Experiment parsing and grid expansion: counts, stable and unique ids, includes, errors.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use brainlike_sweep::plan::{MAX_ID_LEN, run_id};
use brainlike_sweep::{Experiment, Override, Plan, SweepError};

fn parse(text: &str) -> anyhow::Result<Experiment> {
    Experiment::parse(Path::new("/exp/test.toml"), text)
}

fn expand(text: &str) -> Plan {
    Plan::expand(&parse(text).unwrap()).unwrap()
}

const GRID: &str = r#"
name = "grid"
seeds = 3
[set]
optim.epochs = 100
teacher.epochs = 10
[axes]
teacher.ratio = [0, 0.01, 0.1, 1.0]
teacher.pairs = ["v1", "v1_shuffled"]
[[include]]
teacher.ratio = 0.1
teacher.lambda_mode = "static"
"#;

#[test]
fn grid_counts_order_and_overrides() {
    let plan = expand(GRID);
    // (4 x 2 grid + 1 include) x 3 seeds
    assert_eq!(plan.runs.len(), 27);
    for (i, r) in plan.runs.iter().enumerate() {
        assert_eq!(r.index, i);
    }
    // Seeds outermost, axes sorted by key, last axis fastest, includes after the grid.
    let first: Vec<&str> = plan.runs[..9].iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        first,
        [
            "teacher.pairs=v1,teacher.ratio=0__seed=0",
            "teacher.pairs=v1,teacher.ratio=0.01__seed=0",
            "teacher.pairs=v1,teacher.ratio=0.1__seed=0",
            "teacher.pairs=v1,teacher.ratio=1.0__seed=0",
            "teacher.pairs=v1_shuffled,teacher.ratio=0__seed=0",
            "teacher.pairs=v1_shuffled,teacher.ratio=0.01__seed=0",
            "teacher.pairs=v1_shuffled,teacher.ratio=0.1__seed=0",
            "teacher.pairs=v1_shuffled,teacher.ratio=1.0__seed=0",
            "teacher.lambda_mode=static,teacher.ratio=0.1__seed=0",
        ]
    );
    assert!(plan.runs[9..18].iter().all(|r| r.seed == 1));
    // Full override list: [set] + point + seed, sorted by key, as --set arguments.
    let args: Vec<String> = plan.runs[1]
        .overrides
        .iter()
        .map(Override::to_arg)
        .collect();
    assert_eq!(
        args,
        [
            "optim.epochs=100",
            "seed=0",
            "teacher.epochs=10",
            "teacher.pairs=\"v1\"",
            "teacher.ratio=0.01"
        ]
    );
    // The include does not get the grid's other axis.
    let inc = &plan.runs[8];
    assert!(inc.overrides.iter().all(|o| o.key != "teacher.pairs"));
    assert_eq!(
        inc.overrides
            .iter()
            .find(|o| o.key == "teacher.lambda_mode")
            .unwrap()
            .to_arg(),
        "teacher.lambda_mode=\"static\""
    );
}

#[test]
fn ids_are_unique_stable_and_file_safe() {
    let a = expand(GRID);
    let b = expand(GRID);
    assert_eq!(a, b, "expansion is deterministic");
    let ids: HashSet<&str> = a.runs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), a.runs.len());
    for id in ids {
        assert!(id.len() <= MAX_ID_LEN);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._=,+-".contains(c)),
            "{id}"
        );
    }
    // Reordering the file (and quoting keys) does not change the ids.
    let reordered = r#"
name = "grid"
seeds = [0, 1, 2]
[[include]]
teacher.lambda_mode = "static"
teacher.ratio = 0.1
[axes]
"teacher.pairs" = ["v1", "v1_shuffled"]
teacher.ratio = [0, 0.01, 0.1, 1.0]
[set]
"teacher.epochs" = 10
optim = { epochs = 100 }
"#;
    assert_eq!(expand(reordered), a);
}

#[test]
fn plan_json_round_trips() {
    let plan = expand(GRID);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("plan.json");
    plan.save(&p).unwrap();
    assert_eq!(Plan::load(&p).unwrap(), plan);
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains(r#""value": "\"v1_shuffled\"""#), "{text}");
}

#[test]
fn seeds_only_and_includes_only() {
    let plan = expand("name = \"x\"\nseeds = 4\n[set]\nseed_data = 1\n");
    let ids: Vec<&str> = plan.runs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["seed=0", "seed=1", "seed=2", "seed=3"]);

    let plan = expand(
        "name = \"x\"\nseeds = [7]\n[[include]]\nteacher.ratio = 0\n[[include]]\nteacher.ratio = 0.1\n",
    );
    let ids: Vec<&str> = plan.runs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        ["teacher.ratio=0__seed=7", "teacher.ratio=0.1__seed=7"]
    );
}

#[test]
fn long_ids_are_cut_and_hashed() {
    let long: Vec<Override> = (0..12)
        .map(|i| Override::new(format!("section.key_number_{i}"), "a_fairly_long_value"))
        .collect();
    let id = run_id(&long, 5);
    assert!(id.len() <= MAX_ID_LEN, "{id}");
    assert!(id.ends_with("__seed=5"), "{id}");
    assert!(id.contains('~'));
    let mut other = long.clone();
    other[11] = Override::new("section.key_number_11", "different");
    assert_ne!(
        run_id(&other, 5),
        id,
        "a different tail gives a different hash"
    );
    assert_eq!(run_id(&long, 5), id, "stable");
}

fn invalid(text: &str) -> (String, String) {
    let err = parse(text).unwrap_err();
    let msg = format!("{err:#}");
    match err.downcast_ref::<SweepError>() {
        Some(SweepError::Invalid { file, key, .. }) => {
            assert_eq!(file, &PathBuf::from("/exp/test.toml"));
            (key.clone(), msg)
        }
        _ => (String::new(), msg),
    }
}

#[test]
fn unknown_top_level_key_names_key_and_file() {
    let (_, msg) = invalid("name = \"x\"\nseeds = 2\nseedz = 3\n");
    assert!(msg.contains("/exp/test.toml"), "{msg}");
    assert!(msg.contains("seedz"), "{msg}");
    let (_, msg) = invalid("name = \"x\"\nseeds = 2\n[executor]\nkind = \"local\"\nthreds = 2\n");
    assert!(
        msg.contains("threds") && msg.contains("/exp/test.toml"),
        "{msg}"
    );
    let (_, msg) = invalid("name = \"x\"\nseeds = 2\n[executor]\nkind = \"cluster\"\n");
    assert!(
        msg.contains("cluster") && msg.contains("/exp/test.toml"),
        "{msg}"
    );
    let (_, msg) = invalid("name = \"x\"\n[set]\na = 1\n");
    assert!(msg.contains("seeds"), "missing field named: {msg}");
}

#[test]
fn bad_sections_name_the_key() {
    let (key, msg) = invalid("name = \"x\"\nseeds = 2\n[axes]\nteacher.ratio = 0.1\n");
    assert_eq!(key, "[axes] teacher.ratio");
    assert!(msg.contains("expected a list"), "{msg}");

    let (key, _) = invalid("name = \"x\"\nseeds = 2\n[axes]\nteacher.ratio = []\n");
    assert_eq!(key, "[axes] teacher.ratio");

    let (key, msg) = invalid("name = \"x\"\nseeds = 2\n[set]\nseed = 3\n");
    assert_eq!(key, "[set] seed");
    assert!(msg.contains("seeds"), "{msg}");

    let (key, _) = invalid("name = \"x\"\nseeds = 2\n[[include]]\nout_dir = \"a\"\n");
    assert_eq!(key, "[include #1] out_dir");

    let (key, _) = invalid("name = \"x\"\nseeds = 2\n[set]\n\"a.b\" = 1\na.b = 2\n");
    assert_eq!(key, "[set] a.b");

    let (key, _) = invalid("name = \"x\"\nseeds = [1, 1]\n");
    assert_eq!(key, "seeds");

    let (key, _) = invalid("name = \"a/b\"\nseeds = 1\n");
    assert_eq!(key, "name");

    let (key, msg) = invalid("name = \"x\"\nseeds = 1\nbase = \"nope.toml\"\n");
    assert_eq!(key, "base");
    assert!(
        msg.contains("/exp/nope.toml"),
        "base is relative to the file: {msg}"
    );
}

#[test]
fn duplicate_runs_are_refused() {
    let err = Plan::expand(
        &parse("name = \"x\"\nseeds = 1\n[axes]\nr = [0, 1]\n[[include]]\nr = 1\n").unwrap(),
    )
    .unwrap_err();
    assert!(format!("{err}").contains("twice"), "{err}");
}

/// The shipped experiment files parse and expand to the paper's designs.
#[test]
fn shipped_experiments_expand() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let expected = [
        ("fig2_ratio.toml", 7 * 10),
        ("fig4_teacher_type.toml", 5 * 10),
        ("fig6_label_corruption.toml", 10 * 10),
        ("fig7_vgg16.toml", 4 * 10),
        ("fig7_vgg16_label_corruption.toml", 10 * 10),
        ("a1_static_lambda.toml", 4 * 10),
        ("a2_teacher_epochs.toml", 4 * 10),
        ("a3_teacher_type_r.toml", 9 * 10),
        ("a4_layer.toml", 5 * 10),
        ("smoke.toml", 3 * 3),
    ];
    for (file, n) in expected {
        let exp = Experiment::load(&dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e:#}"));
        let plan = Plan::expand(&exp).unwrap_or_else(|e| panic!("{file}: {e:#}"));
        assert_eq!(plan.runs.len(), n, "{file}");
        assert_eq!(exp.name, file.trim_end_matches(".toml"), "{file}: name");
        for r in &plan.runs {
            let keys: Vec<&str> = r.overrides.iter().map(|o| o.key.as_str()).collect();
            assert!(
                keys.contains(&"optim.epochs"),
                "{file}: {} lacks optim.epochs",
                r.id
            );
        }
    }
    let listed: HashSet<&str> = expected.iter().map(|(f, _)| *f).collect();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".toml") {
            assert!(
                listed.contains(name.as_str()),
                "untested experiment file {name}"
            );
        }
    }
}
