//! Step 7a and 7c-e: the floor of the embedding variances, the paper's global filter, the
//! per-class quotas, the judge's errors and its independence from CLIP.

use burn::tensor::Device;
use serde_json::{Value, json};

use super::{Options, Setup, load_classifier};
use crate::data::{Dataset, Split};
use crate::eval::classify::{FEATURES, classify};
use crate::eval::floor::{Embeddings, floor_report, floor_sweep};
use crate::eval::generations::{MAIN_M, Scored, Variant};
use crate::eval::independence::{clip_predictions, independence, judge_errors, real_class_scores};
use crate::eval::judge::{Judge, RANDOM_DRAWS};
use crate::eval::methods::{methods, random_scores, unconfidence};
use crate::eval::metrics::Features;
use crate::eval::tables::{Judged, Poor, quota_table, sampler_scores};
use crate::gpu::Compute;
use crate::uncertainty::SAMPLE_COUNTS;
use crate::uncertainty::load::load_generator;

/// Step 7a: the floor sweep on the paper's u of each candidate sampler (raw and unit
/// embeddings, every draw), and where the variances sit against the floor.
pub(super) fn floor(s: &Setup, full: &[(Variant, Vec<Scored>)], seed: u32) -> Value {
    let rows: Vec<Value> = full
        .iter()
        .map(|(v, draws)| {
            let j = &s.judged[&v.steps];
            let kinds = [
                Embeddings {
                    name: "raw",
                    variances: draws
                        .iter()
                        .map(|d| d.embedding_variance.as_slice())
                        .collect(),
                    maps: draws[0].map_embedding.clone(),
                },
                Embeddings {
                    name: "unit",
                    variances: draws
                        .iter()
                        .map(|d| d.unit_embedding_variance.as_slice())
                        .collect(),
                    maps: unit_rows(&draws[0].map_embedding, draws[0].dims),
                },
            ];
            let labels = (j.poor(Poor::WrongClass), j.poor(Poor::Unrealistic));
            json!({
                "sampler": v.name(),
                "samples": MAIN_M,
                "now": floor_report(&draws[0].embedding_variance, draws[0].dims),
                "sweep": floor_sweep(&kinds, draws[0].dims, labels, &j.maps.classes, seed),
            })
        })
        .collect();
    json!(rows)
}

/// Rows `[N * D]` scaled to unit length.
fn unit_rows(x: &[f32], d: usize) -> Vec<f32> {
    x.chunks_exact(d)
        .flat_map(|r| {
            let norm = r.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
            r.iter().map(move |v| v / norm)
        })
        .collect()
}

/// The judge of a global cut on the generations of `j`, against the test features `real`.
pub(super) fn judge_of<'a>(j: &'a Judged, real: &'a Features) -> Judge<'a> {
    Judge {
        inside: j.inside.clone(),
        real,
        generated: Features::new(&j.maps.features, FEATURES),
        wrong: j.maps.wrong_class(),
        classes: &j.maps.classes,
    }
}

/// Step 7c: the paper's global filter (keep the `keep` lowest of all classes together) of every
/// method on all generations of each candidate sampler.
pub(super) fn global_filter(
    s: &Setup,
    full: &[(Variant, Vec<Scored>)],
    keep: usize,
    seed: u32,
) -> Value {
    let tables: Vec<Value> = full
        .iter()
        .map(|(v, draws)| {
            let j = &s.judged[&v.steps];
            let judge = judge_of(j, &s.real);
            let rows: Vec<_> = methods(&j.maps, &draws[0], &j.radius_ratio, seed, keep)
                .iter()
                .map(|(name, score)| judge.row(name, score, keep))
                .collect();
            json!({"sampler": v.name(), "keep": keep, "generations": s.n, "rows": rows,
                   "random_spread": judge.random_spread(seed, keep, RANDOM_DRAWS)})
        })
        .collect();
    json!(tables)
}

/// Step 7d: the per-class-quota filter of each candidate sampler's scores on all generations.
pub(super) fn quotas(
    s: &Setup,
    full: &[(Variant, Vec<Scored>)],
    keep: usize,
    seed: u32,
) -> Vec<crate::eval::report::QuotaTable> {
    full.iter()
        .map(|(v, draws)| {
            let j = &s.judged[&v.steps];
            let mut rows: Vec<(String, Vec<f64>)> =
                sampler_scores(v, &draws[..1], &SAMPLE_COUNTS, s.n)
                    .into_iter()
                    .map(|(m, _, k, d)| {
                        (
                            format!("{m} {} M={}", v.name(), k.unwrap_or(0)),
                            d[0].clone(),
                        )
                    })
                    .collect();
            rows.push((
                "clip_margin".into(),
                crate::eval::methods::one_minus(&draws[0].class.probability),
            ));
            rows.push(("random".into(), random_scores(seed, 0, s.n)));
            rows.push((
                "classifier_confidence (reference)".into(),
                unconfidence(&j.maps),
            ));
            quota_table(j, s.n, keep, &rows, &s.real, seed)
        })
        .collect()
}

/// Beside the labels by eye: each class-space score of a single image against the judge's own
/// errors on the 10,000 real test images (a set with no bad image).
pub fn judge_errors_section(args: &Options) -> anyhow::Result<Value> {
    let device = Device::flex();
    let g = load_generator(&args.models, Compute::Cpu)?.with_nets_on(&device);
    let test = Dataset::load(&crate::data::default_dir(), Split::Test)?;
    let labels: Vec<i64> = test.labels.iter().map(|&l| l as i64).collect();
    let (_, classifier) = classify(
        &load_classifier(&args.models, &device)?,
        &test.images,
        &device,
    );
    let (probability, entropy) = real_class_scores(&g, &test, &device)?;
    let r = judge_errors(&labels, &classifier, &probability, &entropy);
    println!(
        "the judge's errors on {} real test images ({:.1}%): AUROC clip_margin {:.3}, class entropy {:.3}",
        r.images,
        100.0 * r.classifier_error,
        r.clip_margin,
        r.class_entropy
    );
    Ok(serde_json::to_value(r)?)
}

/// Step 7e: how often CLIP and the classifier err together on the test split.
pub(super) fn independence_section(s: &Setup) -> anyhow::Result<Value> {
    let labels: Vec<i64> = s.test.labels.iter().map(|&l| l as i64).collect();
    let (_, classifier) = classify(&s.classifier, &s.test.images, &s.device);
    let clip = clip_predictions(&s.g, &s.test, &s.device)?;
    Ok(serde_json::to_value(independence(
        &labels,
        &classifier,
        &clip,
    ))?)
}
