//! Small statistics helpers shared by the metrics (ranks, correlations,
//! Kendall counts, medians, percentiles).
//!
//! Definitions follow scipy (`scipy.stats.rankdata(method="average")`,
//! `scipy.stats.kendalltau`) and numpy (`np.percentile`, linear interpolation).

/// Average ranks (1-based) with ties given the mean of the ranks they span,
/// as `scipy.stats.rankdata(x, method="average")`.
pub fn rankdata(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut ranks = vec![0.0; n];
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && x[idx[j]] == x[idx[i]] {
            j += 1;
        }
        // positions i..j (0-based) share rank mean(i+1..=j)
        let r = (i + 1 + j) as f64 / 2.0;
        for &k in &idx[i..j] {
            ranks[k] = r;
        }
        i = j;
    }
    ranks
}

/// Arithmetic mean (NaN for an empty slice).
pub fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    x.iter().sum::<f64>() / x.len() as f64
}

/// Variance with `ddof` degrees of freedom removed (two-pass; `ddof = 1`: the
/// sample variance); NaN when there are no more than `ddof` values.
pub fn variance(x: &[f64], ddof: usize) -> f64 {
    if x.len() <= ddof {
        return f64::NAN;
    }
    let m = mean(x);
    x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() - ddof) as f64
}

/// Standard deviation with `ddof` degrees of freedom removed (`ddof = 1`: the
/// sample SD); NaN when there are no more than `ddof` values.
pub fn std(x: &[f64], ddof: usize) -> f64 {
    variance(x, ddof).sqrt()
}

/// Standard error of the mean (`std(ddof=1) / sqrt(n)`; NaN for fewer than 2 values).
pub fn sem(x: &[f64]) -> f64 {
    std(x, 1) / (x.len() as f64).sqrt()
}

/// Median ignoring NaNs (as `np.nanmedian`, xarray's `median(skipna=True)`).
/// NaN when no finite value is present.
pub fn nanmedian(x: &[f64]) -> f64 {
    let mut v: Vec<f64> = x.iter().copied().filter(|v| !v.is_nan()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Mean ignoring NaNs.
pub fn nanmean(x: &[f64]) -> f64 {
    let v: Vec<f64> = x.iter().copied().filter(|v| !v.is_nan()).collect();
    mean(&v)
}

/// Percentile `q` in `[0, 100]` with linear interpolation (numpy's default).
pub fn percentile(x: &[f64], q: f64) -> f64 {
    let mut v: Vec<f64> = x.iter().copied().filter(|v| !v.is_nan()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let pos = q / 100.0 * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// Pearson correlation of two equally long slices (NaN if either is constant).
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "pearson: length mismatch");
    let ma = mean(a);
    let mb = mean(b);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    if saa == 0.0 || sbb == 0.0 {
        return f64::NAN;
    }
    sab / (saa.sqrt() * sbb.sqrt())
}

/// Cosine similarity of two vectors; 0 when either has zero norm
/// (rsatoolbox 0.3.2 `_cosine` convention).
pub fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += x * y;
        saa += x * x;
        sbb += y * y;
    }
    if saa == 0.0 || sbb == 0.0 {
        return 0.0;
    }
    sab / saa.sqrt() / sbb.sqrt()
}

/// Counts needed for Kendall's tau (scipy's O(n log n) algorithm by Knight):
/// `(tot, xtie, ytie, ntie, dis)` = total pairs, pairs tied in x, tied in y,
/// tied in both, discordant pairs.
pub fn kendall_counts(x: &[f64], y: &[f64]) -> (u64, u64, u64, u64, u64) {
    let n = x.len();
    // sort by (x, y)
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]).then(y[a].total_cmp(&y[b])));
    let pairs = |c: u64| c * c.saturating_sub(1) / 2;
    let mut xtie = 0u64;
    let mut ntie = 0u64;
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && x[idx[j]] == x[idx[i]] {
            j += 1;
        }
        xtie += pairs((j - i) as u64);
        // joint ties inside this x block (sorted by y)
        let mut k = i;
        while k < j {
            let mut l = k + 1;
            while l < j && y[idx[l]] == y[idx[k]] {
                l += 1;
            }
            ntie += pairs((l - k) as u64);
            k = l;
        }
        i = j;
    }
    // discordant pairs = strict inversions of y in (x, y)-sorted order
    let mut ys: Vec<f64> = idx.iter().map(|&k| y[k]).collect();
    let mut buf = ys.clone();
    let dis = merge_count(&mut ys, &mut buf);
    // ties in y (ys is now sorted)
    let mut ytie = 0u64;
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && ys[j] == ys[i] {
            j += 1;
        }
        ytie += pairs((j - i) as u64);
        i = j;
    }
    (pairs(n as u64), xtie, ytie, ntie, dis)
}

/// Merge sort counting strict inversions (`a[i] > a[j]`, `i < j`).
fn merge_count(a: &mut [f64], buf: &mut [f64]) -> u64 {
    let n = a.len();
    if n < 2 {
        return 0;
    }
    let mid = n / 2;
    let mut inv = {
        let (l, r) = a.split_at_mut(mid);
        let (bl, br) = buf.split_at_mut(mid);
        merge_count(l, bl) + merge_count(r, br)
    };
    let (mut i, mut j, mut k) = (0, mid, 0);
    while i < mid && j < n {
        if a[j] < a[i] {
            buf[k] = a[j];
            inv += (mid - i) as u64;
            j += 1;
        } else {
            buf[k] = a[i];
            i += 1;
        }
        k += 1;
    }
    while i < mid {
        buf[k] = a[i];
        i += 1;
        k += 1;
    }
    while j < n {
        buf[k] = a[j];
        j += 1;
        k += 1;
    }
    a.copy_from_slice(&buf[..n]);
    inv
}

/// Kendall's tau-a: `(concordant - discordant) / (n (n-1) / 2)`; tied pairs
/// count zero (rsatoolbox 0.3.2 `_tau_a`).
pub fn kendall_tau_a(x: &[f64], y: &[f64]) -> f64 {
    let (tot, xtie, ytie, ntie, dis) = kendall_counts(x, y);
    if tot == 0 {
        return f64::NAN;
    }
    let cmd = tot as f64 - xtie as f64 - ytie as f64 + ntie as f64 - 2.0 * dis as f64;
    (cmd / tot as f64).clamp(-1.0, 1.0)
}

/// Kendall's tau-b (`scipy.stats.kendalltau` default, rsatoolbox `kendall`).
pub fn kendall_tau_b(x: &[f64], y: &[f64]) -> f64 {
    let (tot, xtie, ytie, ntie, dis) = kendall_counts(x, y);
    if xtie == tot || ytie == tot {
        return f64::NAN;
    }
    let cmd = tot as f64 - xtie as f64 - ytie as f64 + ntie as f64 - 2.0 * dis as f64;
    (cmd / ((tot - xtie) as f64).sqrt() / ((tot - ytie) as f64).sqrt()).clamp(-1.0, 1.0)
}

/// Spearman correlation: Pearson correlation of average ranks (tie-corrected).
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    pearson(&rankdata(x), &rankdata(y))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_tau_a(x: &[f64], y: &[f64]) -> f64 {
        let n = x.len();
        let mut s = 0.0;
        for i in 0..n {
            for j in i + 1..n {
                s += ((x[i] - x[j]).signum() * (y[i] - y[j]).signum())
                    * if x[i] == x[j] || y[i] == y[j] {
                        0.0
                    } else {
                        1.0
                    };
            }
        }
        s / (n * (n - 1) / 2) as f64
    }

    #[test]
    fn ranks_with_ties() {
        assert_eq!(rankdata(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
    }

    #[test]
    fn tau_a_matches_brute_force() {
        let x = [1.0, 2.0, 2.0, 3.0, 5.0, 4.0, 4.0, 0.0, 2.0];
        let y = [2.0, 1.0, 1.0, 3.0, 3.0, 5.0, 0.0, 0.0, 2.0];
        assert!((kendall_tau_a(&x, &y) - brute_tau_a(&x, &y)).abs() < 1e-12);
    }

    #[test]
    fn percentile_linear() {
        assert!((percentile(&[1.0, 2.0, 3.0, 4.0], 50.0) - 2.5).abs() < 1e-12);
        assert!((percentile(&[1.0, 2.0, 3.0, 4.0], 2.5) - 1.075).abs() < 1e-12);
    }
}
