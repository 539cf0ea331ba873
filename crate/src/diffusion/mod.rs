//! Rectified flow: the teacher's training target and ODE sampler, and the student's one step.

pub mod flow;
