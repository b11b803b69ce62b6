//! The JSON Schema (draft-07) of buildspec.yml that `kiln schema` prints, generated from the
//! key tables in [`super::keys`].
