# Sourced by scripts/test and scripts/bench-lambda, after scripts/lib/moto.sh: installs
# cargo-lambda (with the Zig it links with) with pip into .tools/cargo-lambda, pinned, once;
# builds the five functions and the agent in one `cargo lambda build` for x86_64 musl (static
# binaries: they run on Lambda's provided.al2023 and in any build image); checks what it made.

CARGO_LAMBDA_VERSION="1.9.2"
KILN_LAMBDA_TOOLS="$PWD/.tools/cargo-lambda"
KILN_LAMBDA_TARGET="x86_64-unknown-linux-musl"
# The functions' binaries (DESIGN §4), then the agent's.
KILN_FUNCTIONS=(kiln-webhook kiln-task-events kiln-log-relay kiln-sweeper kiln-pages)
KILN_LAMBDA_BINARIES=("${KILN_FUNCTIONS[@]}" kiln-agent)

install_cargo_lambda() {
  install_python_tool cargo-lambda "cargo-lambda==$CARGO_LAMBDA_VERSION" "$KILN_LAMBDA_TOOLS"
}

# lambda_build LAMBDA_DIR [CARGO_ARGS...]: one `cargo lambda build` of the five function
# packages and kiln-agent-bin, each binary as LAMBDA_DIR/<name>/bootstrap. Its own target
# folder (target/lambda-build): cargo holds a target folder for a whole build, and the tests
# run in the other one meanwhile. No clippy wrapper: the test build linted the workspace.
lambda_build() {
  local dir="$1"
  shift
  local packages=() p
  for p in "${KILN_FUNCTIONS[@]}"; do packages+=(-p "$p"); done
  env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS \
    CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}/lambda-build" PATH="$KILN_LAMBDA_TOOLS/bin:$PATH" PYTHONPATH="$KILN_LAMBDA_TOOLS" \
    cargo lambda build --locked --quiet --target "$KILN_LAMBDA_TARGET" --lambda-dir "$dir" \
    "${packages[@]}" -p kiln-agent-bin "$@"
}

# is_static BIN: no program interpreter and no shared library needed.
is_static() {
  local bin="$1"
  if readelf -lW "$bin" | grep -q 'Requesting program interpreter'; then
    echo "$bin asks for a program interpreter (not static)" >&2
    return 1
  fi
  if readelf -dW "$bin" | grep -q '(NEEDED)'; then
    echo "$bin needs shared libraries: $(readelf -dW "$bin" | grep '(NEEDED)' | tr -s ' ')" >&2
    return 1
  fi
}

# check_lambda_build LAMBDA_DIR: the six bootstraps are there, executable and static.
check_lambda_build() {
  local dir="$1" name status=0
  for name in "${KILN_LAMBDA_BINARIES[@]}"; do
    local bin="$dir/$name/bootstrap"
    if [ ! -x "$bin" ]; then
      echo "cargo lambda build made no $bin" >&2
      status=1
      continue
    fi
    is_static "$bin" || status=1
  done
  return "$status"
}
