//! Sample-quality metrics in the evaluation classifier's feature space (f64 throughout):
//! FID (Heusel et al. 2017), precision and recall with k-NN manifolds (Kynkäänniemi et al.
//! 2019, k = 3), and summaries (mean and standard deviation, quantiles). How well a score
//! ranks poor generations first is in [`super::ranking`].

use nalgebra::{DMatrix, DVector, SymmetricEigen};

/// Rows of features, `n x d`.
pub struct Features {
    pub rows: DMatrix<f64>,
}

impl Features {
    pub fn new(values: &[f32], d: usize) -> Self {
        let n = values.len() / d;
        Self {
            rows: DMatrix::from_row_iterator(n, d, values.iter().map(|&v| v as f64)),
        }
    }

    /// A subset of the rows.
    pub fn select(&self, idx: &[usize]) -> Self {
        Self {
            rows: self.rows.select_rows(idx),
        }
    }

    fn mean_cov(&self) -> (DVector<f64>, DMatrix<f64>) {
        let n = self.rows.nrows() as f64;
        let mean = self.rows.row_mean().transpose();
        let centred = DMatrix::from_fn(self.rows.nrows(), self.rows.ncols(), |i, j| {
            self.rows[(i, j)] - mean[j]
        });
        let cov = centred.transpose() * &centred / (n - 1.0);
        (mean, cov)
    }

    fn weighted_mean_cov(&self, weights: &[f64]) -> (DVector<f64>, DMatrix<f64>) {
        let total: f64 = weights.iter().sum();
        let w: Vec<f64> = weights.iter().map(|v| v / total).collect();
        let d = self.rows.ncols();
        let mut mean = DVector::zeros(d);
        for (i, wi) in w.iter().enumerate() {
            mean += self.rows.row(i).transpose() * *wi;
        }
        let scaled = DMatrix::from_fn(self.rows.nrows(), d, |i, j| {
            (self.rows[(i, j)] - mean[j]) * w[i].sqrt()
        });
        let unbias = 1.0 - w.iter().map(|v| v * v).sum::<f64>();
        (mean, scaled.transpose() * scaled / unbias)
    }
}

/// Fréchet distance between Gaussians fitted to `a` and `b`:
/// `|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2)`.
pub fn fid(a: &Features, b: &Features) -> f64 {
    frechet(a.mean_cov(), b.mean_cov())
}

/// [`fid`] with the rows of `a` weighted by `weights` (normalised here), e.g. to give every
/// class the same weight: the weighted mean and the unbiased weighted covariance.
pub fn fid_weighted(a: &Features, weights: &[f64], b: &Features) -> f64 {
    frechet(a.weighted_mean_cov(weights), b.mean_cov())
}

fn frechet((ma, sa): (DVector<f64>, DMatrix<f64>), (mb, sb): (DVector<f64>, DMatrix<f64>)) -> f64 {
    let sqrt_a = psd_sqrt(&sa);
    let inner = &sqrt_a * &sb * &sqrt_a;
    let inner = (&inner + inner.transpose()) / 2.0;
    let tr_sqrt: f64 = SymmetricEigen::new(inner)
        .eigenvalues
        .iter()
        .map(|&l| l.max(0.0).sqrt())
        .sum();
    (ma - mb).norm_squared() + sa.trace() + sb.trace() - 2.0 * tr_sqrt
}

fn psd_sqrt(m: &DMatrix<f64>) -> DMatrix<f64> {
    let e = SymmetricEigen::new(m.clone());
    let d = DMatrix::from_diagonal(&e.eigenvalues.map(|l| l.max(0.0).sqrt()));
    &e.eigenvectors * d * e.eigenvectors.transpose()
}

/// Squared distances between all rows of `a` and all rows of `b`.
fn sq_dists(a: &DMatrix<f64>, b: &DMatrix<f64>) -> DMatrix<f64> {
    let na: Vec<f64> = a.row_iter().map(|r| r.norm_squared()).collect();
    let nb: Vec<f64> = b.row_iter().map(|r| r.norm_squared()).collect();
    let mut d = a * b.transpose() * -2.0;
    for i in 0..d.nrows() {
        for j in 0..d.ncols() {
            d[(i, j)] = (d[(i, j)] + na[i] + nb[j]).max(0.0);
        }
    }
    d
}

/// A k-NN manifold: the union of balls around each support row reaching its k-th nearest
/// neighbour in the support.
pub struct Manifold<'a> {
    support: &'a DMatrix<f64>,
    radii: Vec<f64>,
}

impl<'a> Manifold<'a> {
    pub fn new(support: &'a Features, k: usize) -> Self {
        let d = sq_dists(&support.rows, &support.rows);
        let radii = d
            .row_iter()
            .map(|r| {
                let mut v: Vec<f64> = r.iter().copied().collect();
                // v[0] is the row itself
                *v.select_nth_unstable_by(k, f64::total_cmp).1
            })
            .collect();
        Self {
            support: &support.rows,
            radii,
        }
    }

    /// For each row of `points`: is it inside the manifold?
    pub fn contains(&self, points: &Features) -> Vec<bool> {
        inside(&self.radius_ratio(points))
    }

    /// For each row of `points`: how far outside the manifold it lies, `min_j |p - s_j| / r_j`
    /// over the support rows `s_j` with radii `r_j` (inside when at most 1).
    pub fn radius_ratio(&self, points: &Features) -> Vec<f64> {
        self.min_ratio(points, f64::INFINITY)
    }

    /// The realism score of each row of `points` (Kynkäänniemi et al. 2019, eq. 3):
    /// `max_j r_j / |p - s_j|` over the support rows whose radius is at most the median (the
    /// paper prunes the larger half, whose balls reach into empty space). Below 1: the point
    /// lies outside every pruned ball.
    pub fn realism(&self, points: &Features) -> Vec<f64> {
        let median = Quantiles::of(self.radii.clone()).median;
        self.min_ratio(points, median)
            .into_iter()
            .map(|r| 1.0 / r.max(f64::MIN_POSITIVE))
            .collect()
    }

    /// `min_j |p - s_j| / r_j` over the support rows with squared radius `r_j^2 <= max_radius`.
    fn min_ratio(&self, points: &Features, max_radius: f64) -> Vec<f64> {
        let d = sq_dists(&points.rows, self.support);
        d.row_iter()
            .map(|r| {
                r.iter()
                    .zip(&self.radii)
                    .filter(|(_, rad)| **rad <= max_radius)
                    .map(|(&dist, &rad)| (dist / rad.max(f64::MIN_POSITIVE)).sqrt())
                    .fold(f64::INFINITY, f64::min)
            })
            .collect()
    }
}

/// Which of the `radius_ratio`s lie inside the manifold (at most 1).
pub fn inside(radius_ratio: &[f64]) -> Vec<bool> {
    radius_ratio.iter().map(|&r| r <= 1.0).collect()
}

/// Fraction of `true`s.
pub fn fraction(flags: &[bool]) -> f64 {
    flags.iter().filter(|&&b| b).count() as f64 / flags.len() as f64
}

/// Precision of the generations `kept`: the share of them inside the real manifold, given
/// `inside`, every generation's flag (from [`Manifold::contains`] on the real manifold).
pub fn precision(inside: &[bool], kept: &[usize]) -> f64 {
    kept.iter().filter(|&&i| inside[i]).count() as f64 / kept.len().max(1) as f64
}

/// Recall: the share of the real rows inside the k-NN manifold of `generated`.
pub fn recall(real: &Features, generated: &Features, k: usize) -> f64 {
    fraction(&Manifold::new(generated, k).contains(real))
}

/// (precision, recall) of `generated` against `real` with k-NN manifolds.
pub fn precision_recall(real: &Features, generated: &Features, k: usize) -> (f64, f64) {
    let inside = Manifold::new(real, k).contains(generated);
    let all: Vec<usize> = (0..inside.len()).collect();
    (precision(&inside, &all), recall(real, generated, k))
}

/// Mean and sample standard deviation.
#[derive(Debug, serde::Serialize)]
pub struct MeanStd {
    pub mean: f64,
    pub std: f64,
}

impl MeanStd {
    pub fn of(v: &[f64]) -> Self {
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        MeanStd {
            mean,
            std: var.sqrt(),
        }
    }
}

/// Order statistics of a sample (nearest rank).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Quantiles {
    pub min: f64,
    pub p10: f64,
    pub median: f64,
    pub p90: f64,
    pub max: f64,
}

impl Quantiles {
    pub fn of(mut v: Vec<f64>) -> Self {
        v.sort_by(f64::total_cmp);
        let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
        Self {
            min: q(0.0),
            p10: q(0.1),
            median: q(0.5),
            p90: q(0.9),
            max: q(1.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, gaussians};

    fn gaussian_features(n: usize, d: usize, shift: f64, scale: f64, stream: u32) -> Features {
        let v: Vec<f32> = gaussians(5, Stream::Test(stream), n * d)
            .iter()
            .map(|x| (x * scale + shift) as f32)
            .collect();
        Features::new(&v, d)
    }

    /// FID of N(0, I) vs N(m, s^2 I) in d dims is d m^2 + d (1 - s)^2; sampling error shrinks with n.
    #[test]
    fn fid_matches_closed_form() {
        let (n, d) = (20_000, 4);
        let a = gaussian_features(n, d, 0.0, 1.0, 1);
        let b = gaussian_features(n, d, 0.5, 2.0, 2);
        let exact = d as f64 * 0.25 + d as f64 * 1.0;
        let got = fid(&a, &b);
        assert!((got - exact).abs() < 0.1, "fid {got} vs {exact}");
        assert!(fid(&a, &gaussian_features(n, d, 0.0, 1.0, 3)) < 0.01);
    }

    #[test]
    fn precision_recall_of_same_and_disjoint() {
        let a = gaussian_features(1000, 2, 0.0, 1.0, 1);
        let same = gaussian_features(1000, 2, 0.0, 1.0, 2);
        let far = gaussian_features(1000, 2, 50.0, 1.0, 3);
        let (p, r) = precision_recall(&a, &same, 3);
        assert!(p > 0.9 && r > 0.9, "{p} {r}");
        assert_eq!(precision_recall(&a, &far, 3), (0.0, 0.0));
    }

    /// Support 0, 1, 3 on a line with k = 1: radii 1, 1, 2 (the nearest other point).
    #[test]
    fn radius_ratio_closed_form() {
        let support = Features::new(&[0.0, 1.0, 3.0], 1);
        let points = Features::new(&[0.5, 2.0, 6.0, -4.0], 1);
        let m = Manifold::new(&support, 1);
        // 0.5: 0.5 / 1 from 0 or 1; 2.0: 1 / 2 from 3; 6.0: 3 / 2 from 3; -4.0: 7 / 2 from 3 (not 4 / 1 from 0)
        let want = [0.5, 0.5, 1.5, 3.5];
        for (got, want) in m.radius_ratio(&points).iter().zip(want) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
        assert_eq!(m.contains(&points), vec![true, true, false, false]);
    }

    /// Weights that repeat rows equal a plain FID over the repeated rows; equal weights equal
    /// the plain FID.
    #[test]
    fn weighted_fid_equals_repeated_rows() {
        let a = gaussian_features(200, 3, 0.0, 1.0, 4);
        let b = gaussian_features(300, 3, 0.3, 1.2, 5);
        let plain = fid(&a, &b);
        assert!((fid_weighted(&a, &vec![2.0; 200], &b) - plain).abs() < 1e-9);
        // weighting row 0 by 3 ~ repeating it (up to the unbiased normalisation's n)
        let mut idx: Vec<usize> = (0..200).collect();
        idx.extend([0, 0]);
        let repeated = fid(&a.select(&idx), &b);
        let mut w = vec![1.0; 200];
        w[0] = 3.0;
        let weighted = fid_weighted(&a, &w, &b);
        assert!(
            (weighted - repeated).abs() < 0.02 * repeated,
            "{weighted} vs {repeated}"
        );
    }

    /// Support 0, 1, 3, 10 on a line, k = 1: radii 1, 1, 2, 7; the median prunes 7, so a point
    /// at 9 is judged by the ball around 3 (radius 2): realism 2 / 6.
    #[test]
    fn realism_closed_form() {
        let support = Features::new(&[0.0, 1.0, 3.0, 10.0], 1);
        let m = Manifold::new(&support, 1);
        let r = m.realism(&Features::new(&[9.0, 0.5], 1));
        assert!((r[0] - 2.0 / 6.0).abs() < 1e-12, "{r:?}");
        assert!((r[1] - 2.0).abs() < 1e-12, "{r:?}");
    }

    #[test]
    fn quantiles_by_nearest_rank() {
        let q = Quantiles::of((0..=100).rev().map(f64::from).collect());
        assert_eq!(
            (q.min, q.p10, q.median, q.p90, q.max),
            (0.0, 10.0, 50.0, 90.0, 100.0)
        );
    }

    #[test]
    fn mean_std_is_the_sample_estimate() {
        let s = MeanStd::of(&[1.0, 2.0, 3.0, 4.0]);
        assert!((s.mean - 2.5).abs() < 1e-12);
        assert!((s.std - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
    }
}
