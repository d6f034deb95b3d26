//! MEC application packages (CSAR).
