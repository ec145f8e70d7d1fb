//! palisade-pss (in progress)
