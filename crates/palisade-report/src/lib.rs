//! palisade-report (in progress)
