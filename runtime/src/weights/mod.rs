//! Weights measured on this project's reference machine (2 cores), not upstream's.

pub mod paritydb_weights;
