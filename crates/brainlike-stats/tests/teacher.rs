//! Tests of teacher construction (paper §2.2, §2.5).

use brainlike_stats::Matrix;
use brainlike_stats::summary::Summary;
use brainlike_stats::teacher::{
    GAUSSIAN_DIMS, NON_V1_STATS, PairSelection, TeacherKind, V1_STATS, cosine_distance_rdm,
    gaussian_responses, mean_rdm, read_rates_npy, select_pairs, shuffle_per_neuron, teacher_rdm,
    write_pairs_tsv,
};
use rand::SeedableRng;
use std::collections::HashSet;
use std::path::Path;

fn upper_triangle(m: &Matrix) -> Vec<f64> {
    let n = m.rows();
    (0..n)
        .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
        .map(|(a, b)| m.get(a, b))
        .collect()
}

fn write_npy(path: &Path, shape: &[u64], data: &[f64]) {
    brainlike_metrics::io::write_npy(path, shape, data).unwrap();
}

/// Analytical approximation of E[1 − cos] for i.i.d. N(μ, σ²) vectors: the ratio of
/// expectations E[x·y] / E[|x|²] = μ² / (μ² + σ²) (finite-d bias < 0.005 for d = 39).
fn expected_distance(mu: f64, sigma: f64) -> f64 {
    1.0 - mu * mu / (mu * mu + sigma * sigma)
}

#[test]
fn gaussian_controls_match_analytic_expectations() {
    let v1 = teacher_rdm(TeacherKind::GaussianV1Stats, &[], 956, 1).unwrap();
    let non = teacher_rdm(TeacherKind::GaussianNonV1Stats, &[], 956, 1).unwrap();
    let s_v1 = Summary::of(&upper_triangle(&v1));
    let s_non = Summary::of(&upper_triangle(&non));
    let e_v1 = expected_distance(V1_STATS.mu, V1_STATS.sigma); // 0.580
    let e_non = expected_distance(NON_V1_STATS.mu, NON_V1_STATS.sigma); // 0.0134
    assert!((s_v1.mean - e_v1).abs() < 0.01, "{} vs {e_v1}", s_v1.mean);
    assert!(
        (s_non.mean - e_non).abs() < 0.05 * e_non,
        "{} vs {e_non}",
        s_non.mean
    );
    assert!(s_non.mean * 20.0 < s_v1.mean);
    // The vectors themselves have the requested statistics.
    let x = gaussian_responses(2000, GAUSSIAN_DIMS, V1_STATS, 5).unwrap();
    let s = Summary::of(x.as_slice());
    assert!((s.mean - 0.495).abs() < 0.01 && (s.sd - 0.582).abs() < 0.01);
    assert_eq!(x.cols(), 39);
    // Seeded.
    let again = teacher_rdm(TeacherKind::GaussianV1Stats, &[], 956, 1).unwrap();
    assert_eq!(v1, again);
}

/// Compare the generated controls with the shipped data pack (same construction).
#[test]
fn gaussian_controls_match_shipped_pack() {
    // The shared data folder beside the checkout (as CI lays it out), or $BRAINLIKE_TEST_DATA.
    let data = std::env::var_os("BRAINLIKE_TEST_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let dir = &data.join("v1-teacher/pairs");
    if !dir.exists() {
        eprintln!("skipping: {} is absent", dir.display());
        return;
    }
    for kind in [
        TeacherKind::GaussianV1Stats,
        TeacherKind::GaussianNonV1Stats,
    ] {
        let path = dir.join(format!("{}.tsv", kind.name()));
        let text = std::fs::read_to_string(&path).unwrap();
        let reference: Vec<f64> = text
            .lines()
            .skip(1)
            .map(|l| l.split('\t').nth(2).unwrap().parse().unwrap())
            .collect();
        let r = Summary::of(&reference);
        let rdm = teacher_rdm(kind, &[], 956, 42).unwrap();
        let pairs = select_pairs(956, PairSelection::Sample { n: 20_000, seed: 3 }).unwrap();
        let ours: Vec<f64> = pairs.iter().map(|&(a, b)| rdm.get(a, b)).collect();
        let o = Summary::of(&ours);
        eprintln!(
            "{}: pack mean {:.5} sd {:.5}; ours mean {:.5} sd {:.5}",
            kind.name(),
            r.mean,
            r.sd,
            o.mean,
            o.sd
        );
        assert!((o.mean - r.mean).abs() < 0.03 * r.mean, "{}", kind.name());
        assert!((o.sd - r.sd).abs() < 0.1 * r.sd, "{}", kind.name());
    }
}

#[test]
fn shuffle_preserves_each_neurons_marginal_exactly() {
    let rates = gaussian_responses(300, 20, V1_STATS, 9).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
    let shuffled = shuffle_per_neuron(&rates, &mut rng);
    let mut moved_rows = 0;
    for j in 0..rates.cols() {
        let mut a = rates.column(j);
        let mut b = shuffled.column(j);
        if a != b {
            moved_rows += 1;
        }
        a.sort_by(f64::total_cmp);
        b.sort_by(f64::total_cmp);
        assert_eq!(a, b, "neuron {j}");
    }
    assert_eq!(moved_rows, rates.cols());
    // Permutations are independent across neurons: the row structure is destroyed.
    let same_row_perm = (1..rates.cols()).all(|j| {
        (0..rates.rows()).all(|i| {
            let src0 = rates
                .column(0)
                .iter()
                .position(|&v| v == shuffled.get(i, 0));
            let srcj = rates
                .column(j)
                .iter()
                .position(|&v| v == shuffled.get(i, j));
            src0 == srcj
        })
    });
    assert!(!same_row_perm);
}

#[test]
fn v1_teacher_from_npy_sessions() {
    let dir = tempfile::tempdir().unwrap();
    // 2 sessions x 5 stimuli x 3 neurons; session 1 pads neuron 2 with NaN and did not
    // show stimulus 4.
    let mut data = vec![];
    let s0 = [
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [1.0, 1.0, 0.0],
        [0.0, 0.0, 3.0],
        [2.0, 2.0, 2.0],
    ];
    let s1 = [
        [1.0, 0.0, f64::NAN],
        [1.0, 0.0, f64::NAN],
        [0.0, 1.0, f64::NAN],
        [0.0, 1.0, f64::NAN],
        [f64::NAN, f64::NAN, f64::NAN],
    ];
    for row in s0.iter().chain(s1.iter()) {
        data.extend_from_slice(row);
    }
    let path = dir.path().join("rates.npy");
    write_npy(&path, &[2, 5, 3], &data);
    let sessions = read_rates_npy(&path).unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!((sessions[0].rows(), sessions[0].cols()), (5, 3));
    assert_eq!((sessions[1].rows(), sessions[1].cols()), (5, 2));
    let rdm = teacher_rdm(TeacherKind::V1, &sessions, 0, 0).unwrap();
    // (0,1): session 0 → 1, session 1 → 0: mean 0.5
    assert!((rdm.get(0, 1) - 0.5).abs() < 1e-12);
    // (0,4): only session 0: 1 − 2/(√12)
    assert!((rdm.get(0, 4) - (1.0 - 2.0 / 12f64.sqrt())).abs() < 1e-12);
    let manual = mean_rdm(&[cosine_distance_rdm(&sessions[0])]).unwrap();
    assert_eq!(manual.get(3, 4), rdm.get(3, 4));

    // 2-D file: one session.
    let path2 = dir.path().join("one.npy");
    write_npy(&path2, &[5, 3], &data[..15]);
    assert_eq!(read_rates_npy(&path2).unwrap().len(), 1);
    // A partial NaN row is an error naming the place.
    let mut bad = data[..15].to_vec();
    bad[4] = f64::NAN;
    write_npy(&path2, &[5, 3], &bad);
    let err = read_rates_npy(&path2).unwrap_err().to_string();
    assert!(err.contains("stimulus 1"), "{err}");
}

#[test]
fn pair_files_are_valid_unique_and_atomic() {
    let rdm = teacher_rdm(TeacherKind::GaussianV1Stats, &[], 60, 2).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (sel, expected) in [
        (PairSelection::All, 60 * 59 / 2),
        (PairSelection::Sample { n: 500, seed: 8 }, 500),
        (PairSelection::Sample { n: 1770, seed: 8 }, 1770),
    ] {
        let pairs = select_pairs(60, sel).unwrap();
        assert_eq!(pairs.len(), expected);
        let path = dir.path().join("pairs.tsv");
        write_pairs_tsv(&path, &rdm, &pairs).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("image_a\timage_b\tcosine_distance"));
        let mut seen = HashSet::new();
        for line in lines {
            let f: Vec<&str> = line.split('\t').collect();
            let (a, b): (usize, usize) = (f[0].parse().unwrap(), f[1].parse().unwrap());
            let d: f64 = f[2].parse().unwrap();
            assert!(a < b && b < 60);
            assert!(seen.insert((a, b)));
            assert_eq!(d, rdm.get(a, b)); // exact round trip
        }
        assert_eq!(seen.len(), expected);
    }
    // Only the final file is left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1);
    // Seeded sampling.
    let a = select_pairs(60, PairSelection::Sample { n: 100, seed: 1 }).unwrap();
    let b = select_pairs(60, PairSelection::Sample { n: 100, seed: 1 }).unwrap();
    let c = select_pairs(60, PairSelection::Sample { n: 100, seed: 2 }).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(select_pairs(60, PairSelection::Sample { n: 1771, seed: 1 }).is_err());
    assert!(write_pairs_tsv(&dir.path().join("x.tsv"), &rdm, &[(3, 2)]).is_err());
    assert!(write_pairs_tsv(&dir.path().join("x.tsv"), &rdm, &[(1, 2), (1, 2)]).is_err());
}
