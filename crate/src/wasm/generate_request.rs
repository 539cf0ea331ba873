//! `generate()`'s request as JS writes it (camelCase, a class by index or name, numbers as
//! `number`), deserialized with serde into a checked [`Request`]. Plain serde: it compiles
//! natively too, where its tests run; `request.rs`'s `from_js` reads it from a JS value.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::Error;
use crate::data::{CLASS_NAMES, class_index};
use crate::uncertainty::{DEFAULT_PERTURB, DEFAULT_SAMPLES, DEFAULT_STEPS, Perturb, Request};

/// What `generate()` takes.
#[derive(Debug, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct GenerateRequest {
    /// A class index 0-9 or a name from classNames(), e.g. "sneaker".
    #[cfg_attr(target_arch = "wasm32", tsify(type = "number | string"))]
    pub class: ClassRef,
    /// The initial noise's seed, an integer 0..=4294967295.
    #[cfg_attr(target_arch = "wasm32", tsify(type = "number"))]
    pub seed: Integer,
    /// M, weight samples besides the MAP, 1..=maxSamples (default: defaults().samples).
    #[cfg_attr(target_arch = "wasm32", tsify(optional, type = "number"))]
    pub samples: Option<Integer>,
    /// Euler steps of the student, one of defaults().supportedSteps (default: the one `genuq eval`
    /// picked).
    #[cfg_attr(target_arch = "wasm32", tsify(optional, type = "number"))]
    pub steps: Option<Integer>,
    /// Where the weight samples act: at "all" steps (the paper's way), the "first" or the "last"
    /// (default: the one `genuq eval` picked).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub perturb: Option<Perturb>,
    /// Also return the M perturbed images (default false).
    #[cfg_attr(target_arch = "wasm32", tsify(optional))]
    pub with_samples: Option<bool>,
    /// The heatmap's top colour: "own" (this image's largest spread, the default), "reference" (the
    /// 95th percentile over reference generations of this sampler, so heatmaps can be compared), or
    /// a standard deviation.
    #[cfg_attr(
        target_arch = "wasm32",
        tsify(optional, type = "\"own\" | \"reference\" | number")
    )]
    pub heatmap_scale: Option<HeatmapScale>,
}

/// A whole number in `u32`'s range, as JS writes it (a `number`).
#[derive(Debug, Clone, Copy)]
pub struct Integer(pub u32);

impl<'de> Deserialize<'de> for Integer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Integer;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "an integer in 0..={}", u32::MAX)
            }
            fn visit_u64<E: de::Error>(self, i: u64) -> Result<Integer, E> {
                u32::try_from(i)
                    .map(Integer)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(i), &self))
            }
            fn visit_i64<E: de::Error>(self, i: i64) -> Result<Integer, E> {
                u64::try_from(i)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(i), &self))
                    .and_then(|i| self.visit_u64(i))
            }
            fn visit_f64<E: de::Error>(self, x: f64) -> Result<Integer, E> {
                match x.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&x) {
                    true => Ok(Integer(x as u32)),
                    false => Err(E::invalid_value(de::Unexpected::Float(x), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A class by index or by name.
#[derive(Debug, Clone, Copy)]
pub struct ClassRef(pub usize);

impl<'de> Deserialize<'de> for ClassRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ClassRef;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(
                    f,
                    "a class index 0..={} or one of {}",
                    CLASS_NAMES.len() - 1,
                    CLASS_NAMES.join(", ")
                )
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<ClassRef, E> {
                class_index(name)
                    .map(ClassRef)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(name), &self))
            }
            fn visit_u64<E: de::Error>(self, i: u64) -> Result<ClassRef, E> {
                match usize::try_from(i) {
                    Ok(i) if i < CLASS_NAMES.len() => Ok(ClassRef(i)),
                    _ => Err(E::invalid_value(de::Unexpected::Unsigned(i), &self)),
                }
            }
            fn visit_i64<E: de::Error>(self, i: i64) -> Result<ClassRef, E> {
                u64::try_from(i)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(i), &self))
                    .and_then(|i| self.visit_u64(i))
            }
            fn visit_f64<E: de::Error>(self, x: f64) -> Result<ClassRef, E> {
                match x.fract() == 0.0 && x >= 0.0 {
                    true => self.visit_u64(x as u64),
                    false => Err(E::invalid_value(de::Unexpected::Float(x), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// The heatmap's top colour a request asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HeatmapScale {
    Own,
    Reference,
    Fixed(f32),
}

impl<'de> Deserialize<'de> for HeatmapScale {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = HeatmapScale;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("\"own\", \"reference\" or a standard deviation")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<HeatmapScale, E> {
                match s {
                    "own" => Ok(HeatmapScale::Own),
                    "reference" => Ok(HeatmapScale::Reference),
                    _ => Err(E::invalid_value(de::Unexpected::Str(s), &self)),
                }
            }
            fn visit_f64<E: de::Error>(self, x: f64) -> Result<HeatmapScale, E> {
                Ok(HeatmapScale::Fixed(x as f32))
            }
            fn visit_u64<E: de::Error>(self, x: u64) -> Result<HeatmapScale, E> {
                self.visit_f64(x as f64)
            }
            fn visit_i64<E: de::Error>(self, x: i64) -> Result<HeatmapScale, E> {
                self.visit_f64(x as f64)
            }
        }
        d.deserialize_any(V)
    }
}

impl GenerateRequest {
    /// The checked request, whether to return the perturbed images, and the heatmap's scale.
    pub fn into_request(self) -> Result<(Request, bool, HeatmapScale), Error> {
        let req = Request {
            class: self.class.0,
            seed: self.seed.0,
            samples: self.samples.map_or(DEFAULT_SAMPLES, |s| s.0 as usize),
            steps: self.steps.map_or(DEFAULT_STEPS, |s| s.0 as usize),
            perturb: self.perturb.unwrap_or(DEFAULT_PERTURB),
        };
        req.validate()?;
        Ok((
            req,
            self.with_samples.unwrap_or(false),
            self.heatmap_scale.unwrap_or(HeatmapScale::Own),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `text` (a request as JS would send it, in JSON) read and checked, or the error's text.
    fn parse(text: &str) -> Result<(Request, bool, HeatmapScale), String> {
        serde_json::from_str::<GenerateRequest>(text)
            .map_err(|e| e.to_string())?
            .into_request()
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_class_by_name_alias_or_index_and_the_shipped_defaults() {
        let (req, with_samples, scale) = parse(r#"{"class": "sneaker", "seed": 42}"#).unwrap();
        let want = Request {
            class: 7,
            seed: 42,
            samples: DEFAULT_SAMPLES,
            steps: DEFAULT_STEPS,
            perturb: DEFAULT_PERTURB,
        };
        assert_eq!((req, with_samples, scale), (want, false, HeatmapScale::Own));
        // JS numbers arrive as floats: a whole one is an index
        assert_eq!(parse(r#"{"class": 7.0, "seed": 42}"#).unwrap().0, want);
        assert_eq!(parse(r#"{"class": "boot", "seed": 0}"#).unwrap().0.class, 9);
        let top = parse(r#"{"class": 0, "seed": 4294967295.0}"#).unwrap().0;
        assert_eq!(top.seed, u32::MAX);
    }

    #[test]
    fn every_field_is_read() {
        let text = r#"{"class": 1, "seed": 5, "samples": 3, "steps": 4, "perturb": "last",
                       "withSamples": true, "heatmapScale": 0.25}"#;
        let (req, with_samples, scale) = parse(text).unwrap();
        assert_eq!((req.samples, req.steps, req.perturb), (3, 4, Perturb::Last));
        assert!(with_samples);
        assert_eq!(scale, HeatmapScale::Fixed(0.25));
        let reference = parse(r#"{"class": 1, "seed": 5, "heatmapScale": "reference"}"#);
        assert_eq!(reference.unwrap().2, HeatmapScale::Reference);
    }

    #[test]
    fn a_bad_field_is_an_error_that_says_what_is_allowed() {
        let bad = [
            (
                r#"{"class": "cat", "seed": 1}"#,
                "expected a class index 0..=9 or one of t-shirt",
            ),
            (r#"{"class": 10, "seed": 1}"#, "invalid value: integer `10`"),
            (
                r#"{"class": 1.5, "seed": 1}"#,
                "invalid value: floating point `1.5`",
            ),
            (
                r#"{"class": 1, "seed": -1}"#,
                "expected an integer in 0..=4294967295",
            ),
            (
                r#"{"class": 1, "seed": 4294967296}"#,
                "invalid value: integer `4294967296`",
            ),
            (
                r#"{"class": 1, "seed": 1.5}"#,
                "invalid value: floating point `1.5`",
            ),
            (r#"{"class": 1}"#, "missing field `seed`"),
            (r#"{"class": 1, "seed": 1, "samples": 0}"#, "samples"),
            (
                r#"{"class": 1, "seed": 1, "steps": 3}"#,
                "steps = 3 is not one of [1, 2, 4]",
            ),
            (
                r#"{"class": 1, "seed": 1, "perturb": "middle"}"#,
                "unknown variant `middle`",
            ),
            (
                r#"{"class": 1, "seed": 1, "heatmapScale": "big"}"#,
                "invalid value: string \"big\"",
            ),
        ];
        for (text, why) in bad {
            let e = parse(text).expect_err(text);
            assert!(e.contains(why), "{text}: {e}");
        }
    }
}
