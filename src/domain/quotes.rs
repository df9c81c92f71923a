//! quotes (being written).
