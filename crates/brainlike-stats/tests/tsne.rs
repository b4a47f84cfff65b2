//! Tests of exact t-SNE (paper §3.2, Fig. 3).

use brainlike_stats::Matrix;
use brainlike_stats::tsne::{TsneInit, TsneOptions, tsne};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

/// `k` Gaussian clusters of `per` points in `dims` dimensions, centres 10 SD apart.
fn clusters(k: usize, per: usize, dims: usize, seed: u64) -> (Matrix, Vec<usize>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let centres: Vec<Vec<f64>> = (0..k)
        .map(|_| {
            (0..dims)
                .map(|_| {
                    10.0 / (dims as f64).sqrt() * 3.0 * {
                        let z: f64 = StandardNormal.sample(&mut rng);
                        z
                    }
                })
                .collect()
        })
        .collect();
    let mut rows = vec![];
    let mut labels = vec![];
    for i in 0..k * per {
        let c = i % k;
        rows.push(
            centres[c]
                .iter()
                .map(|m| {
                    m + {
                        let z: f64 = StandardNormal.sample(&mut rng);
                        z
                    } * 0.3
                })
                .collect(),
        );
        labels.push(c);
    }
    (Matrix::from_rows(&rows).unwrap(), labels)
}

/// Fraction of the `k` nearest neighbours (in the embedding) sharing the point's label.
fn knn_purity(y: &Matrix, labels: &[usize], k: usize) -> f64 {
    let n = y.rows();
    let mut hits = 0usize;
    for i in 0..n {
        let mut d: Vec<(f64, usize)> = (0..n)
            .filter(|&j| j != i)
            .map(|j| {
                let (a, b) = (y.get(i, 0) - y.get(j, 0), y.get(i, 1) - y.get(j, 1));
                (a * a + b * b, j)
            })
            .collect();
        d.sort_by(|a, b| a.0.total_cmp(&b.0));
        hits += d[..k]
            .iter()
            .filter(|(_, j)| labels[*j] == labels[i])
            .count();
    }
    hits as f64 / (n * k) as f64
}

#[test]
fn separated_clusters_stay_separated_and_kl_decreases() {
    // 120 dims > 50: exercises the PCA pre-reduction.
    let (x, labels) = clusters(5, 60, 120, 3);
    let res = tsne(&x, &TsneOptions::default()).unwrap();
    assert_eq!((res.embedding.rows(), res.embedding.cols()), (300, 2));
    let purity = knn_purity(&res.embedding, &labels, 10);
    assert!(purity > 0.9, "kNN purity {purity}");
    // KL after early exaggeration decreases.
    let after: Vec<f64> = res
        .kl_history
        .iter()
        .filter(|(it, _)| *it >= 300)
        .map(|&(_, kl)| kl)
        .collect();
    assert!(after.len() >= 10);
    assert!(after.last().unwrap() < &after[0], "{:?}", res.kl_history);
    assert!(res.kl_history.last().unwrap().1 < res.kl_history[0].1);
    assert_eq!(res.kl_history.last().unwrap().0, 1000);
    assert!((res.learning_rate - 50.0).abs() < 1e-12); // 300 / 12 / 4 < 50
}

#[test]
fn deterministic_for_a_seed_random_init() {
    let (x, labels) = clusters(3, 40, 20, 5);
    let opts = TsneOptions {
        init: TsneInit::Random,
        seed: 17,
        n_iter: 400,
        ..TsneOptions::default()
    };
    let a = tsne(&x, &opts).unwrap();
    let b = tsne(&x, &opts).unwrap();
    assert_eq!(a.embedding, b.embedding);
    let c = tsne(&x, &TsneOptions { seed: 18, ..opts }).unwrap();
    assert_ne!(a.embedding, c.embedding);
    assert!(knn_purity(&a.embedding, &labels, 5) > 0.9);
}

#[test]
fn paper_sized_input_separates_clusters() {
    // 1,280 points (Fig. 3) x 256 dims. (Its speed is a benchmark's business, not a test's.)
    let (x, labels) = clusters(10, 128, 256, 7);
    let res = tsne(&x, &TsneOptions::default()).unwrap();
    assert!(res.kl_divergence.is_finite());
    assert!(knn_purity(&res.embedding, &labels, 10) > 0.9);
}

#[test]
fn rejects_bad_input() {
    let x = Matrix::new(3, 2, vec![0.0; 6]).unwrap();
    assert!(tsne(&x, &TsneOptions::default()).is_err());
    let x = Matrix::new(10, 2, vec![1.0; 20]).unwrap();
    assert!(tsne(&x, &TsneOptions::default()).is_err()); // perplexity 30 > N − 1
}
