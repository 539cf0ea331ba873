//! Steps 2 and 3 of the protocol: every sampler variant on the ablation generations (and the
//! other posteriors of the last layer, where given), then the candidates to ship on all
//! generations.

use anyhow::Context;

use super::{Options, Setup};
use crate::eval::cache::cached_score;
use crate::eval::detect::detection;
use crate::eval::generations::{MAIN_M, Scored, Variant};
use crate::eval::methods::as_f64;
use crate::eval::tables::{NamedScore, ablation_variants, head};
use crate::posterior::Posterior;
use crate::uncertainty::ScoreName;

/// Step 2: every variant at M = 8 on the ablation generations, every draw.
pub(super) fn ablations(s: &Setup, args: &Options) -> anyhow::Result<Vec<(Variant, Vec<Scored>)>> {
    ablation_variants(&args.steps)
        .into_iter()
        .map(|v| Ok((v, s.score(v, s.n_abl, args)?)))
        .collect()
}

/// The posteriors' ablation: u of the one-step path with each other posterior of the last
/// layer on the ablation generations (one draw each), as rows `u, posterior NAME`.
pub(super) fn posterior_ablation(s: &Setup, args: &Options) -> anyhow::Result<Vec<NamedScore>> {
    let v = Variant {
        steps: 1,
        perturb: crate::uncertainty::Perturb::All,
        max_samples: MAIN_M,
    };
    let mut rows = Vec::new();
    for path in &args.posteriors {
        let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
        let posterior = Posterior::parse(&text, s.g.head.layout)?;
        let key = &crate::manifest::sha256_hex(text.as_bytes())[..8];
        let alt = s.g.clone().with_posterior(&posterior)?;
        let scored = cached_score(
            &alt,
            &s.cache.join(key),
            v,
            s.n_abl,
            args.seed,
            args.seed,
            args.batch as usize,
        )?;
        let name = format!(
            "{}, posterior {:?}, prior {:.3} ({})",
            ScoreName::U.name(),
            posterior.curvature,
            posterior.prior_precision,
            path.file_name().and_then(|f| f.to_str()).unwrap_or("?")
        );
        rows.push((name, None, Some(MAIN_M), vec![as_f64(&scored.u[&MAIN_M])]));
    }
    Ok(rows)
}

/// The wrong-class macro AUROC of u (M = 8) of `v`'s draws on the first `n` generations.
fn u_auroc(s: &Setup, v: &Variant, draws: &[Scored], n: usize, seed: u32) -> f64 {
    let d: Vec<Vec<f64>> = draws
        .iter()
        .map(|x| head(&as_f64(&x.u[&MAIN_M]), n))
        .collect();
    detection(&d, &s.wrong(v.steps)[..n], &s.classes()[..n], seed).macro_auroc
}

/// Step 3: the candidates to ship, on all generations: the one-step path (the cheapest) and the
/// few-step variant whose u detects best on the ablations.
pub(super) fn candidates(
    s: &Setup,
    ablations: &[(Variant, Vec<Scored>)],
    args: &Options,
) -> anyhow::Result<Vec<(Variant, Vec<Scored>)>> {
    let best_few = ablations
        .iter()
        .filter(|(v, _)| v.steps > 1)
        .map(|(v, d)| (*v, u_auroc(s, v, d, s.n_abl, args.seed)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(v, _)| v);
    let one = ablations
        .iter()
        .find(|(v, _)| v.steps == 1)
        .map(|(v, _)| *v);
    one.into_iter()
        .chain(best_few)
        .map(|v| Ok((v, s.score(v, s.n, args)?)))
        .collect()
}
