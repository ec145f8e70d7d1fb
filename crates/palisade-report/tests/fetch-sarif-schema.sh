#!/usr/bin/env bash
# Prints the path of the official OASIS SARIF 2.1.0 JSON schema
# (sarif-schema-2.1.0.json), for tests/sarif.rs (export it as SARIF_SCHEMA).
#
# The schema is not committed: the crates.io package serde-sarif ships it
# unchanged as src/schema.json. `cargo fetch` on a throwaway manifest downloads
# that package into Cargo's registry (nothing is built), and `cargo metadata`
# tells where it was unpacked.
#
#   export SARIF_SCHEMA="$(bash crates/palisade-report/tests/fetch-sarif-schema.sh)"
set -euo pipefail

version="0.8.0"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/src"
: > "$dir/src/lib.rs"
cat > "$dir/Cargo.toml" <<TOML
[package]
name = "sarif-schema-fetch"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
serde-sarif = { version = "=$version", default-features = false }

[workspace]
TOML

cargo fetch --quiet --manifest-path "$dir/Cargo.toml" >&2
manifest="$(cargo metadata --quiet --format-version 1 --manifest-path "$dir/Cargo.toml" \
  | grep -o '"manifest_path":"[^"]*serde-sarif-'"$version"'/Cargo.toml"' \
  | head -n 1 | sed -e 's/^"manifest_path":"//' -e 's/"$//')"
if [ -z "$manifest" ]; then
  echo "fetch-sarif-schema: serde-sarif $version not found in cargo metadata" >&2
  exit 1
fi
schema="$(dirname "$manifest")/src/schema.json"
if ! grep -q '"https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"' "$schema"; then
  echo "fetch-sarif-schema: $schema is not the OASIS SARIF 2.1.0 schema" >&2
  exit 1
fi
echo "$schema"
