//! The Mp1 client.
