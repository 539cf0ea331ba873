//! Rectified flow (flow matching on straight paths, Liu et al. 2022; Lipman et al. 2022):
//! `x_t = (1 - t) x0 + t eps`, velocity `v = eps - x0`, so `x0 = x_t - t v`.
//! t = 1 is pure noise, t = 0 the data. All images `[B, 1, 32, 32]`.

use burn::tensor::{Int, Tensor};

use crate::model::UNet;
use crate::model::unet::NULL_CLASS;

/// The point at time `t` (`[B]`) on the straight path from `x0` to `eps`.
pub fn noisy(x0: Tensor<4>, eps: Tensor<4>, t: Tensor<1>) -> Tensor<4> {
    let [b] = t.dims();
    let t = t.reshape([b, 1, 1, 1]);
    x0 * (t.clone().neg() + 1.0) + eps * t
}

/// The teacher's regression target.
pub fn velocity(x0: Tensor<4>, eps: Tensor<4>) -> Tensor<4> {
    eps - x0
}

/// Classifier-free guided velocity `v_null + w (v_class - v_null)` at one time for the batch
/// (`w = 1`: plain conditional, one pass).
pub fn guided_velocity(
    model: &UNet,
    x: Tensor<4>,
    t: f32,
    class: Tensor<1, Int>,
    w: f32,
) -> Tensor<4> {
    guided_velocity_with(model, x, t, class, w, |h| model.head(h))
}

/// [`guided_velocity`] with the last layer `head` applied to the trunk's features (e.g. a
/// weight sample of it).
pub fn guided_velocity_with(
    model: &UNet,
    x: Tensor<4>,
    t: f32,
    class: Tensor<1, Int>,
    w: f32,
    head: impl Fn(Tensor<4>) -> Tensor<4>,
) -> Tensor<4> {
    let [b, ..] = x.dims();
    let device = x.device();
    if w == 1.0 {
        return head(model.trunk(x, Tensor::full([b], t, &device), class));
    }
    let null = Tensor::<1, Int>::full([b], NULL_CLASS as i64, &device);
    let v = head(model.trunk(
        Tensor::cat(vec![x.clone(), x], 0),
        Tensor::full([2 * b], t, &device),
        Tensor::cat(vec![class, null], 0),
    ));
    let v_class = v.clone().slice(0..b);
    let v_null = v.slice(b..2 * b);
    v_null.clone() + (v_class - v_null) * w
}

/// Heun's method from t = 1 (`z`) to t = 0 in `steps` uniform steps (2 * steps - 1 velocity
/// evaluations).
pub fn sample_heun(
    model: &UNet,
    z: Tensor<4>,
    class: Tensor<1, Int>,
    steps: usize,
    w: f32,
) -> Tensor<4> {
    heun(z, steps, |x, t| {
        guided_velocity(model, x, t, class.clone(), w)
    })
}

/// Heun's method from t = 1 (`z`) to t = 0 in `steps` uniform steps on the velocity field
/// `velocity(x, t)`: the one Heun loop (the teacher's sampler, plain or with a perturbed head).
pub fn heun(
    z: Tensor<4>,
    steps: usize,
    mut velocity: impl FnMut(Tensor<4>, f32) -> Tensor<4>,
) -> Tensor<4> {
    let mut x = z;
    for i in 0..steps {
        let t0 = 1.0 - i as f32 / steps as f32;
        let t1 = 1.0 - (i + 1) as f32 / steps as f32;
        let dt = t1 - t0;
        let v0 = velocity(x.clone(), t0);
        let euler = x.clone() + v0.clone() * dt;
        if t1 == 0.0 {
            x = euler;
        } else {
            let v1 = velocity(euler, t1);
            x = x + (v0 + v1) * (0.5 * dt);
        }
    }
    x
}

/// The times of an S-step sampler, from noise to data: `[1, (S-1)/S, ..., 0]`.
pub fn grid(steps: usize) -> Vec<f32> {
    (0..=steps).map(|i| 1.0 - i as f32 / steps as f32).collect()
}

/// The one Euler loop of the student's samplers: `steps` steps on [`grid`] from `x` (t = 1) to
/// t = 0, `x <- x + (t_next - t) v`, where `step(i, t, x)` gives step i's `(x, v)` (the `x` it
/// returns may be reshaped, e.g. grown into the weight samples' trajectories); an error stops
/// the loop.
pub fn euler<E>(
    mut x: Tensor<4>,
    steps: usize,
    mut step: impl FnMut(usize, f32, Tensor<4>) -> Result<(Tensor<4>, Tensor<4>), E>,
) -> Result<Tensor<4>, E> {
    for (i, w) in grid(steps).windows(2).enumerate() {
        let (at, v) = step(i, w[0], x)?;
        x = at + v * (w[1] - w[0]);
    }
    Ok(x)
}

/// The distilled student's sampler: `steps` Euler steps on the grid from `z` (t = 1) to t = 0,
/// `x <- x + (t_next - t) * student(x, t, class)`; with one step, `x0 = z - student(z, 1, class)`.
pub fn sample_student(
    student: &UNet,
    z: Tensor<4>,
    class: Tensor<1, Int>,
    steps: usize,
) -> Tensor<4> {
    sample_student_traced(student, z, class, steps).0
}

/// [`sample_student`], also returning the clean image each step predicts,
/// `x0_hat = x_t - t v` (one `[B, 1, H, W]` per step): the trajectory's spread of its
/// predictions (Aithal et al., NeurIPS 2024) is a cheap baseline score.
pub fn sample_student_traced(
    student: &UNet,
    z: Tensor<4>,
    class: Tensor<1, Int>,
    steps: usize,
) -> (Tensor<4>, Vec<Tensor<4>>) {
    let [b, ..] = z.dims();
    let device = z.device();
    let mut predictions = Vec::with_capacity(steps);
    let x = euler(z, steps, |_, t, x| {
        let v = student.forward(x.clone(), Tensor::full([b], t, &device), class.clone());
        predictions.push(x.clone() - v.clone() * t);
        Ok::<_, std::convert::Infallible>((x, v))
    });
    let Ok(x) = x;
    (x, predictions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn the_grid_runs_from_noise_to_data() {
        assert_eq!(grid(1), vec![1.0, 0.0]);
        assert_eq!(grid(4), vec![1.0, 0.75, 0.5, 0.25, 0.0]);
    }

    /// A constant velocity v carries z to z - v whatever the steps (the integral of v from t = 1
    /// to 0), and every step sees its own time.
    #[test]
    fn euler_integrates_a_constant_velocity_exactly() {
        let device = Device::flex();
        let z = Tensor::<4>::from_floats([[[[1.0, -2.0], [0.5, 3.0]]]], &device);
        let v = Tensor::<4>::from_floats([[[[0.25, 1.0], [-1.5, 2.0]]]], &device);
        for steps in [1, 2, 4] {
            let mut seen = Vec::new();
            let x = euler(z.clone(), steps, |i, t, x| {
                seen.push((i, t));
                Ok::<_, ()>((x, v.clone()))
            })
            .unwrap();
            let got: Vec<f32> = x.into_data().iter::<f32>().collect();
            assert_eq!(got, vec![0.75, -3.0, 2.0, 1.0], "{steps} steps");
            let want: Vec<(usize, f32)> =
                grid(steps)[..steps].iter().copied().enumerate().collect();
            assert_eq!(seen, want);
        }
    }

    /// A linear velocity v = x: each step multiplies by (1 + dt), the closed form of Euler's
    /// method (and not exp(-1), the exact flow: a first-order method's error shows).
    #[test]
    fn euler_steps_a_linear_field_by_its_closed_form() {
        let device = Device::flex();
        let z = Tensor::<4>::from_floats([[[[2.0]]]], &device);
        let x = euler(z, 4, |_, _, x| Ok::<_, ()>((x.clone(), x))).unwrap();
        let got = x.into_data().iter::<f32>().next().unwrap() as f64;
        let want = 2.0 * 0.75f64.powi(4);
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    }

    /// An error stops the loop at once.
    #[test]
    fn euler_stops_at_the_first_error() {
        let device = Device::flex();
        let z = Tensor::<4>::zeros([1, 1, 1, 1], &device);
        let mut calls = 0;
        let out = euler(z, 4, |i, _, x| {
            calls += 1;
            match i {
                1 => Err("step 1"),
                _ => Ok((x.clone(), x)),
            }
        });
        assert_eq!(out.err(), Some("step 1"));
        assert_eq!(calls, 2);
    }
}
