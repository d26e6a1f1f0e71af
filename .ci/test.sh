#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what it needs, checks format
# and lints for both builds (default features, and the Bevy-free --no-default-features
# engine), then runs every test of both builds. This is the README's test command.
cd "$(dirname "$0")/.."
source .ci/common.sh
rustup component add rustfmt clippy >/dev/null 2>&1 || true
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== clippy (engine only, --no-default-features)"
cargo clippy --no-default-features --all-targets -- -D warnings
echo "== clippy (default features)"
cargo clippy --all-targets -- -D warnings
echo "== tests (engine only, --no-default-features)"
cargo test --no-default-features
echo "== tests (default features)"
cargo test
