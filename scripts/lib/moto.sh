# Sourced by scripts/test and scripts/bench-s3: installs moto's server and the AWS CLI with pip
# into .tools/python, pinned, once (quietly skipped when they are there); starts moto on a free
# loopback port; stops it when the calling script exits. Needs only Python 3 (with pip).

MOTO_VERSION="5.2.5"
AWSCLI_VERSION="1.46.3"
KILN_PYTHON_TOOLS="$PWD/.tools/python"

# install_python_tool NAME SPECS [DIR [PIP_OPTIONS]]: pip-installs SPECS (space-separated)
# into DIR (default .tools/python) unless the same SPECS are already there. Tools whose pins
# clash get a DIR each (scripts/lib/sam.sh).
install_python_tool() {
  local name="$1" spec="$2" target="${3:-$KILN_PYTHON_TOOLS}" options="${4:-}"
  local stamp="$target/.installed-$name"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$spec" ]; then
    return 0
  fi
  echo "installing $spec into ${target#"$PWD/"}"
  mkdir -p "$target"
  if ! python3 -m pip --version >/dev/null 2>&1; then
    python3 -m ensurepip --upgrade >/dev/null 2>&1 || true
  fi
  # pip compares what it installs here with the interpreter's own packages and warns about
  # conflicts that do not matter to a --target folder: its output is shown only on failure.
  if ! PIP_ROOT_USER_ACTION=ignore python3 -m pip install --disable-pip-version-check \
    --no-warn-script-location --upgrade --target "$target" $options $spec \
    >"$target/../pip-$name.log" 2>&1; then
    cat "$target/../pip-$name.log" >&2
    echo "pip could not install $spec (is pip installed for python3?)" >&2
    return 1
  fi
  printf '%s' "$spec" >"$stamp"
}

# The emulator and the AWS CLI (for the benchmark), installed together so that they share one
# botocore.
KILN_PYTHON_SPEC="moto[server]==$MOTO_VERSION awscli==$AWSCLI_VERSION"

# start_moto: installs and starts moto_server, exports KILN_TEST_MOTO_URL, stops it at exit.
start_moto() {
  install_python_tool aws-tools "$KILN_PYTHON_SPEC"
  local port
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  local log="$PWD/.tools/moto-server.log"
  PYTHONPATH="$KILN_PYTHON_TOOLS" python3 -m moto.server -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  KILN_MOTO_PID=$!
  trap 'kill "$KILN_MOTO_PID" 2>/dev/null || true' EXIT
  local i
  for i in $(seq 1 300); do
    if python3 -c "import socket, sys; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
      export KILN_TEST_MOTO_URL="http://127.0.0.1:$port"
      echo "moto $MOTO_VERSION on $KILN_TEST_MOTO_URL (log: .tools/moto-server.log)"
      return 0
    fi
    if ! kill -0 "$KILN_MOTO_PID" 2>/dev/null; then
      echo "moto_server exited; its log:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "moto_server did not answer on port $port" >&2
  return 1
}
