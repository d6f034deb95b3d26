//! The Mp1 data model.
