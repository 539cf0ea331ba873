//! `genuq eval`: the paper's protocol on our models. Generate class-conditional MAP samples
//! from random classes, score each one, keep the `keep` least uncertain, and compare the kept
//! set with a random subset of the same size in the evaluation classifier's feature space
//! (FID, precision and recall with k = 3, class accuracy), plus the AUROC of each score for
//! detecting samples the classifier assigns to another class.
//!
//! Scores (higher = less trustworthy, dropped first): the paper's CLIP-space u with
//! M in {2, 5, 8, 16} (the M weight samples are nested: M = 2 uses the first two of the 16),
//! the same u ranked within each class (drops the same share of every class, so the class mix
//! cannot shift), random within each class at the class mix the `genuq` row keeps (the class
//! shift's control), BayesDiff-style pixel variance (sum over pixels, M = 8), and the
//! evaluation classifier's own confidence, overall and within each class, as an upper reference
//! (it is the judge of class accuracy, so it is not a fair competitor). A last row is a ceiling,
//! not a method: within each class it drops the generations farthest outside the test split's
//! k-NN manifold (the ones precision counts as bad), so it shows what removing bad samples
//! could do for FID at best.

use std::collections::BTreeMap;
use std::path::PathBuf;

use burn::tensor::activation::softmax;
use burn::tensor::{Tensor, Transaction};
use indicatif::ProgressBar;
use serde_json::json;

use super::floor::floor_report;
use super::judge::{Judge, RANDOM_DRAWS, Row};
use super::metrics::{Features, Manifold, Quantiles, inside};
use super::models::classify;
use super::plots;
use super::select::{class_counts, lowest, most_dropped, with_class_mix, within_class_rank};
use crate::data::{self, Dataset, Split};
use crate::kernels::{moments::moments, philox, semantic_entropy::semantic_entropy};
use crate::model::classifier::{Classifier, ClassifierConfig};
use crate::uncertainty::{Generator, ReferenceTable};

#[derive(Debug, Clone, clap::Args)]
pub struct EvalArgs {
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
    /// Class-conditional generations to score (random classes).
    #[arg(long, default_value_t = 12_032)]
    pub generations: usize,
    /// How many generations each method keeps.
    #[arg(long, default_value_t = 10_000)]
    pub keep: usize,
    /// Seed of the classes, the noise and the weight samples.
    #[arg(long, default_value_t = 2025)]
    pub seed: u32,
    /// Generations per GPU batch.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Where eval.json and the figures go.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// Also write MODELS/reference_u.json: quantiles of u over the first 10,000 generations,
    /// for each M, which the demo and `genuq generate` turn into percentiles.
    #[arg(long)]
    pub reference: bool,
}

/// The M values scored (nested draws).
pub const SAMPLE_COUNTS: [usize; 4] = [2, 5, 8, 16];
/// The M of the `genuq` row, the pixel-variance baseline and the demo's default.
pub const MAIN_M: usize = 8;
const PIXELS: usize = 1024;
const FEATURES: usize = 128;

/// Everything measured per generation.
#[derive(Default)]
struct Scored {
    classes: Vec<usize>,
    maps: Vec<f32>,
    features: Vec<f32>,
    predictions: Vec<i64>,
    confidence: Vec<f32>,
    u: BTreeMap<usize, Vec<f32>>,
    pixel_variance: Vec<f32>,
    /// Per-dimension CLIP embedding variances at M = `MAIN_M`, `[N * D]`.
    embedding_variance: Vec<f32>,
    /// Embedding width D.
    dims: usize,
}

/// Class of generation `i`: uniform over the 10 classes, from the counter RNG.
fn class_of(seed: u32, i: usize) -> usize {
    (philox::philox_block(seed, 1, i as u32)[0] % 10) as usize
}

fn score_all(args: &EvalArgs, g: &Generator, classifier: &Classifier) -> anyhow::Result<Scored> {
    let m_max = *SAMPLE_COUNTS.last().expect("non-empty");
    let s = m_max + 1;
    let mut out = Scored::default();
    let bar = ProgressBar::new(args.generations as u64);
    bar.set_message("generate and score");
    for start in (0..args.generations).step_by(args.batch) {
        let b = args.batch.min(args.generations - start);
        let classes: Vec<usize> = (start..start + b).map(|i| class_of(args.seed, i)).collect();
        let seeds: Vec<u32> = (start..start + b)
            .map(|i| args.seed.wrapping_add(i as u32))
            .collect();
        let images = g.images_batch(&classes, &seeds, m_max, args.seed)?;
        let emb = g.embed(images.clone().reshape([b * s, 1, 32, 32]));
        let d = emb.dims()[1];
        let emb = emb.reshape([b, s, d]);
        let mut tx = Transaction::default();
        for m in SAMPLE_COUNTS {
            tx = tx.register(semantic_entropy(emb.clone().slice([0..b, 0..m + 1, 0..d]))?);
        }
        let (_, var) =
            moments(
                images
                    .clone()
                    .slice([0..b, 0..MAIN_M + 1])
                    .reshape([b, MAIN_M + 1, PIXELS]),
            )?;
        let map: Tensor<4> = images.slice([0..b, 0..1]).to_device(&g.nets);
        let features = classifier.features(map.clone());
        let logits = classifier.forward_features(features.clone());
        let confidence = softmax(logits.clone(), 1).max_dim(1);
        let (_, emb_var) = moments(emb.slice([0..b, 0..MAIN_M + 1, 0..d]))?;
        let tx = tx.register(var.sum_dim(1)).register(emb_var);
        let mut data = tx.execute().into_iter().chain(
            Transaction::default()
                .register(map)
                .register(features)
                .register(confidence)
                .register(logits.argmax(1))
                .execute(),
        );
        let mut next = || data.next().expect("one result per registered tensor");
        for m in SAMPLE_COUNTS {
            out.u.entry(m).or_default().extend(next().iter::<f32>());
        }
        out.pixel_variance.extend(next().iter::<f32>());
        out.embedding_variance.extend(next().iter::<f32>());
        out.dims = d;
        out.maps.extend(next().iter::<f32>());
        out.features.extend(next().iter::<f32>());
        out.confidence.extend(next().iter::<f32>());
        out.predictions.extend(next().iter::<i64>());
        out.classes.extend(classes);
        bar.inc(b as u64);
    }
    bar.finish();
    Ok(out)
}

/// The FID plot's ceiling curve.
const ORACLE_CURVE: &str = "oracle per class (peeks at test)";

pub fn eval(args: &EvalArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.keep > 0 && args.keep <= args.generations && args.batch > 0,
        "need 0 < keep <= generations and batch > 0"
    );
    // The networks on burn's CPU backend (about 10x lavapipe's speed on this kind of machine),
    // our kernels on the wgpu device.
    let device = burn::tensor::Device::flex();
    let generator = crate::cli::load_generator(&args.models)?.with_nets_on(&device);
    let classifier = crate::store::load(
        ClassifierConfig::new().init(&device),
        std::fs::read(args.models.join("classifier.safetensors"))?,
        "classifier",
    )?;
    let test = Dataset::load(&data::default_dir(), Split::Test)?;
    let scored = score_all(args, &generator, &classifier)?;
    std::fs::create_dir_all(&args.out)?;

    if args.reference {
        let n = args.generations.min(10_000);
        let first: BTreeMap<usize, Vec<f32>> = scored
            .u
            .iter()
            .map(|(&m, u)| (m, u[..n].to_vec()))
            .collect();
        let table = ReferenceTable::from_scores(&first, 1001);
        let text = serde_json::to_string(&table)? + "\n";
        let name = crate::uncertainty::load::REFERENCE;
        std::fs::write(args.models.join(name), &text)?;
        let path = args.models.join("manifest.json");
        let mut manifest = crate::manifest::Manifest::parse(&std::fs::read_to_string(&path)?)?;
        manifest.record(
            name,
            text.as_bytes(),
            "quantiles of u over 10,000 reference generations per M (genuq eval --reference): percentiles",
        );
        std::fs::write(&path, serde_json::to_string_pretty(&manifest)? + "\n")?;
        eprintln!(
            "wrote {} over {n} generations",
            args.models.join(name).display()
        );
    }

    eprintln!("metrics against the test split ...");
    let (test_features, _) = classify(&classifier, &test.images, &device);
    let real = Features::new(&test_features, FEATURES);
    let generated = Features::new(&scored.features, FEATURES);
    let manifold = Manifold::new(&real, 3);
    let radius_ratio = manifold.radius_ratio(&generated);
    let judge = Judge {
        inside: inside(&radius_ratio),
        real: &real,
        generated,
        wrong: scored
            .predictions
            .iter()
            .zip(&scored.classes)
            .map(|(&p, &c)| p != c as i64)
            .collect(),
        classes: &scored.classes,
    };
    let n = args.generations;
    let as_f64 = |v: &[f32]| -> Vec<f64> { v.iter().map(|&x| x as f64).collect() };
    let random: Vec<f64> = (0..n)
        .map(|i| philox::philox_block(args.seed, 2, i as u32)[0] as f64)
        .collect();
    let u_main = as_f64(&scored.u[&MAIN_M]);
    let pixel = as_f64(&scored.pixel_variance);
    let mut methods: Vec<(String, Vec<f64>)> = vec![
        ("random".into(), random.clone()),
        ("genuq".into(), u_main.clone()),
    ];
    for m in SAMPLE_COUNTS.into_iter().filter(|&m| m != MAIN_M) {
        methods.push((format!("genuq_m{m}"), as_f64(&scored.u[&m])));
    }
    let per_class = within_class_rank(&u_main, &scored.classes);
    methods.push(("genuq_per_class".into(), per_class.clone()));
    // The control for the class shift: random generations within each class, as many of each
    // class as the genuq row keeps. Its gap to `genuq` is what u's choice within classes is
    // worth at that class mix; its gap to `random` is what the class shift alone costs.
    let genuq_mix = class_counts(&lowest(&u_main, args.keep), &scored.classes);
    let within: Vec<f64> = (0..n)
        .map(|i| philox::philox_block(args.seed, 3, i as u32)[0] as f64)
        .collect();
    methods.push((
        "random_genuq_mix".into(),
        with_class_mix(&within, &scored.classes, &genuq_mix),
    ));
    methods.push(("pixel_variance".into(), pixel.clone()));
    let unconfident: Vec<f64> = scored.confidence.iter().map(|&c| -(c as f64)).collect();
    methods.push(("classifier_confidence".into(), unconfident.clone()));
    methods.push((
        "classifier_confidence_per_class".into(),
        within_class_rank(&unconfident, &scored.classes),
    ));
    // A ceiling, not a method: it peeks at the test split the metrics use, and drops the
    // generations farthest outside its k-NN manifold, the same share of every class.
    let oracle = within_class_rank(&radius_ratio, &scored.classes);
    methods.push(("oracle_per_class".into(), oracle.clone()));
    let bar = ProgressBar::new(methods.len() as u64);
    bar.set_message("metrics per method");
    let rows: Vec<Row> = methods
        .iter()
        .map(|(name, score)| {
            let row = judge.row(name, score, args.keep);
            bar.inc(1);
            row
        })
        .collect();
    bar.finish();
    let spread = judge.random_spread(args.seed, args.keep, RANDOM_DRAWS);
    let curves: Vec<(&str, _)> = [
        ("random", &random),
        ("genuq (M = 8)", &u_main),
        ("genuq per class", &per_class),
        ("pixel variance", &pixel),
        (ORACLE_CURVE, &oracle),
    ]
    .into_iter()
    .map(|(name, score)| (name, judge.curve(score)))
    .collect();

    let wrong = judge.wrong.iter().filter(|&&w| w).count();
    let floor = floor_report(&scored.embedding_variance, scored.dims);
    let report = json!({
        "rows": rows,
        "generations": n,
        "keep": args.keep,
        "seed": args.seed,
        "main_samples": MAIN_M,
        "wrong_class": wrong,
        "random_spread": spread,
        "curves": curves.iter().map(|(name, (f, p))| json!({"method": name, "fid": f, "precision": p})).collect::<Vec<_>>(),
        "u": scored.u.iter().map(|(m, u)| (m.to_string(), Quantiles::of(u.iter().map(|&x| x as f64).collect()))).collect::<BTreeMap<_, _>>(),
        "u_floor": floor,
        "protocol": "keep the `keep` generations with the lowest score (higher = more uncertain); FID, precision/recall (k = 3) in the evaluation classifier's 128-d features vs the 10k test split; class accuracy by the evaluation classifier; AUROC of the score for detecting wrong-class generations over all generations",
    });
    std::fs::write(
        args.out.join("eval.json"),
        serde_json::to_string_pretty(&report)? + "\n",
    )?;

    let fid_series: Vec<_> = curves.iter().map(|(n, (f, _))| (*n, f.clone())).collect();
    // The oracle's precision (1.0 from 20% dropped, by construction) would flatten the others.
    let precision_series: Vec<_> = curves
        .iter()
        .filter(|(n, _)| *n != ORACLE_CURVE)
        .map(|(n, (_, p))| (*n, p.clone()))
        .collect();
    plots::lines(
        &args.out.join("fid_vs_dropped.png"),
        "FID of the kept generations (lower is better)",
        ("fraction dropped", "FID"),
        &fid_series,
    )?;
    plots::lines(
        &args.out.join("precision_vs_dropped.png"),
        "Precision of the kept generations (higher is better)",
        ("fraction dropped", "precision (k = 3)"),
        &precision_series,
    )?;
    plots::histogram(
        &args.out.join("u_histogram.png"),
        &format!("Generative uncertainty u over {n} generations (M = {MAIN_M})"),
        "u",
        &u_main,
        60,
    )?;
    let order = lowest(&u_main, n);
    let image = |i: &usize| &scored.maps[i * PIXELS..(i + 1) * PIXELS];
    let least: Vec<&[f32]> = order[..32.min(n)].iter().map(image).collect();
    let most: Vec<&[f32]> = order.iter().rev().take(32).map(image).collect();
    plots::grid(&args.out.join("least_uncertain.png"), &least, 8, 3)?;
    plots::grid(&args.out.join("most_uncertain.png"), &most, 8, 3)?;

    let generated_per_class = class_counts(&(0..n).collect::<Vec<_>>(), &scored.classes);
    println!(
        "{:<32} {:>8} {:>10} {:>8} {:>10} {:>7}  most dropped class",
        "method", "FID", "precision", "recall", "class acc", "AUROC"
    );
    for r in &rows {
        let (c, share) = most_dropped(&r.kept_per_class, &generated_per_class);
        println!(
            "{:<32} {:>8.4} {:>10.4} {:>8.4} {:>10.4} {:>7.3}  {} {:.0}%",
            r.method,
            r.fid,
            r.precision,
            r.recall,
            r.class_accuracy,
            r.auroc,
            data::CLASS_NAMES[c],
            100.0 * share
        );
    }
    println!(
        "random over {RANDOM_DRAWS} draws: FID {:.4} +- {:.4}, precision {:.4} +- {:.4}",
        spread.fid.mean, spread.fid.std, spread.precision.mean, spread.precision.std
    );
    println!(
        "u's floor (M = {MAIN_M}): dimensions with v_d > {} per generation: median {} of {} (p90 {}); \
         median v_d {:.1e}; u above its floor / its linear approximation: median {:.2}",
        floor.floor,
        floor.dims_above_floor.median,
        floor.dims,
        floor.dims_above_floor.p90,
        floor.median_variance,
        floor.above_floor_over_linear.median
    );
    println!(
        "{wrong} of {n} generations are of another class by the classifier; wrote {}",
        args.out.join("eval.json").display()
    );
    Ok(())
}
