//! The synthetic data streams shipped with tilesim (nothing is downloaded): a teacher–student
//! regression and a Gaussian-mixture classification, each with an optional drift.
//!
//! Every sample is a pure function of (seed, split, index, concept): a sample can be
//! regenerated alone, and the same seed gives the same stream. The *concept* is what the
//! task is at a point of the stream: 0 before the drift, 1 from the drift sample on (a new
//! teacher, or new class means).

use rand::RngExt;
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;

use crate::model::Task;
use crate::replay::data::{mix, normals};

use super::net::{Net, Shape, Target};

/// Which part of the stream a sample comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Split {
    /// Samples the learning partition learns on, in stream order.
    Train,
    /// The held-out slice every evaluation uses (never learned on).
    HeldOut,
}

/// What a generator is for (part of its seed).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Purpose {
    /// A sample of a split.
    Sample(Split),
    /// The teacher of a concept.
    Teacher,
    /// The class means of a concept.
    Means,
    /// The student's initial weights.
    Student,
    /// Perturbation `k` of a batch.
    Tangent(u32),
}

impl Purpose {
    fn tag(self) -> u64 {
        match self {
            Purpose::Sample(Split::Train) => 101,
            Purpose::Sample(Split::HeldOut) => 102,
            Purpose::Teacher => 103,
            Purpose::Means => 104,
            Purpose::Student => 105,
            Purpose::Tangent(k) => 1 << 32 | u64::from(k),
        }
    }
}

/// The generator for one purpose and index.
pub(crate) fn seeded(seed: u64, purpose: Purpose, index: u64) -> Pcg64Mcg {
    let mut h = mix(seed ^ 0x6c65_6172_6e69_6e67); // "learning"
    for part in [purpose.tag(), index] {
        h = mix(h ^ part);
    }
    Pcg64Mcg::seed_from_u64(h)
}

/// A concept: what the targets are.
#[derive(Debug, Clone)]
enum Concept {
    Teacher(Net),
    Means(Vec<Vec<f64>>),
}

/// A seeded data stream for a model shape.
#[derive(Debug, Clone)]
pub(crate) struct DataStream {
    task: Task,
    seed: u64,
    inputs: usize,
    concepts: [Concept; 2],
}

impl DataStream {
    /// The stream of `task` for a model of `shape`.
    pub fn new(task: Task, shape: &Shape, seed: u64) -> DataStream {
        let concept = |c: u64| match task {
            Task::TeacherStudent { .. } => {
                Concept::Teacher(Net::init(shape, &mut seeded(seed, Purpose::Teacher, c)))
            }
            Task::GaussianMixture { separation, .. } => {
                let d = shape.inputs();
                let std = separation / (2.0 * d as f64).sqrt();
                let mut r = seeded(seed, Purpose::Means, c);
                Concept::Means(
                    (0..shape.outputs())
                        .map(|_| normals(&mut r, d, std))
                        .collect(),
                )
            }
        };
        DataStream {
            task,
            seed,
            inputs: shape.inputs(),
            concepts: [concept(0), concept(1)],
        }
    }

    /// Sample `index` of a split under concept `concept` (0 or 1).
    pub fn sample(&self, split: Split, index: u64, concept: usize) -> (Vec<f64>, Target) {
        let mut r = seeded(self.seed, Purpose::Sample(split), index);
        match (&self.concepts[concept.min(1)], self.task) {
            (Concept::Teacher(t), Task::TeacherStudent { noise }) => {
                let x = normals(&mut r, self.inputs, 1.0);
                let y = t.forward(&x);
                let e = normals(&mut r, y.len(), noise);
                let target = y.iter().zip(&e).map(|(a, b)| a + b).collect();
                (x, Target::Values(target))
            }
            (Concept::Means(m), Task::GaussianMixture { noise, .. }) => {
                let class = r.random_range(0..m.len().max(1));
                let e = normals(&mut r, self.inputs, noise);
                let x = m.get(class).map_or(e.clone(), |mu| {
                    mu.iter().zip(&e).map(|(a, b)| a + b).collect()
                });
                (x, Target::Class(class))
            }
            // The concepts are built from the task, so the pairs above are the only ones.
            (Concept::Teacher(_), _) | (Concept::Means(_), _) => {
                (normals(&mut r, self.inputs, 1.0), Target::Class(0))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learning::net::DenseShape;
    use crate::spec::ActivationSpec;

    fn shape() -> Shape {
        Shape {
            layers: vec![
                DenseShape {
                    k: 6,
                    n: 8,
                    act: ActivationSpec::Relu,
                },
                DenseShape {
                    k: 8,
                    n: 3,
                    act: ActivationSpec::None,
                },
            ],
        }
    }

    #[test]
    fn samples_are_reproducible_and_drift_changes_targets_not_inputs() {
        let s = DataStream::new(Task::TeacherStudent { noise: 0.0 }, &shape(), 5);
        let a = s.sample(Split::Train, 7, 0);
        assert_eq!(a, s.sample(Split::Train, 7, 0));
        assert_ne!(a, s.sample(Split::Train, 8, 0));
        assert_ne!(a, s.sample(Split::HeldOut, 7, 0));
        let b = s.sample(Split::Train, 7, 1);
        assert_eq!(a.0, b.0);
        assert_ne!(a.1, b.1);
    }

    #[test]
    fn mixture_classes_are_balanced_and_means_separated() {
        let s = DataStream::new(
            Task::GaussianMixture {
                separation: 3.0,
                noise: 1.0,
            },
            &shape(),
            9,
        );
        let mut counts = [0u32; 3];
        for i in 0..3000 {
            if let (_, Target::Class(c)) = s.sample(Split::Train, i, 0) {
                counts[c] += 1;
            }
        }
        // Each class has probability 1/3: 1000 expected, standard deviation ≈ 26.
        assert!(
            counts.iter().all(|&c| (c as i32 - 1000).abs() < 150),
            "{counts:?}"
        );
    }
}
