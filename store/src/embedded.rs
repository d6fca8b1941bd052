//! Embedded cluster (placeholder while it is written).
