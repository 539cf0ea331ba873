//! Rectified flow: the teacher's training target and Heun sampler, and the student's Euler steps.

pub mod flow;
