//! customers (being written).
