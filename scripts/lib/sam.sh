# Sourced by scripts/test after scripts/lib/moto.sh: installs the AWS SAM CLI with pip into
# .tools/sam, pinned, once (its pins of boto3, Flask and click clash with moto's, so it gets a
# folder of its own), and runs it with no credentials and no network.

SAM_CLI_VERSION="1.170.0"
# sam validate --lint is cfn-lint on the template (which transforms it with the SAM
# translator): both pinned, so a new lint rule changes nothing until we move the pins.
CFN_LINT_VERSION="1.58.0"
SAM_TRANSLATOR_VERSION="1.115.0"
KILN_SAM_TOOLS="$PWD/.tools/sam"
KILN_SAM_SPEC="aws-sam-cli==$SAM_CLI_VERSION cfn-lint==$CFN_LINT_VERSION aws-sam-translator==$SAM_TRANSLATOR_VERSION"

install_sam() {
  # --no-compile: pip would byte-compile all 300 MB (a minute on a fresh machine); Python
  # compiles the few modules sam validate imports on first use instead.
  install_python_tool sam "$KILN_SAM_SPEC" "$KILN_SAM_TOOLS" --no-compile
  # SAM CLI's own state (telemetry choice, the weekly version check): here, not in ~/.aws-sam.
  # A last check dated in 2100 means it never asks PyPI for a newer version.
  local home="$PWD/.tools/sam-home"
  mkdir -p "$home"
  if [ ! -f "$home/metadata.json" ]; then
    printf '{"telemetryEnabled": false, "lastVersionCheck": 4102444800.0}\n' >"$home/metadata.json"
  fi
}

# offline CMD...: CMD in a network namespace of its own (no interface but a downed loopback)
# where this machine allows one, so a step that must not reach the network provably does not.
offline() {
  if unshare --net true 2>/dev/null; then
    unshare --net "$@"
  else
    "$@"
  fi
}

# sam_env: python3 with the SAM CLI's packages, a region, dummy credentials, no AWS config
# files and SAM CLI's telemetry off; used as `offline env "${sam_env[@]}" python3 ...`.
sam_env=(
  PYTHONPATH="$KILN_SAM_TOOLS"
  AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
  AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
  SAM_CLI_TELEMETRY=0 __SAM_CLI_APP_DIR="$PWD/.tools/sam-home"
)

# sam_validate TEMPLATE: `sam validate --lint`, offline.
sam_validate() {
  offline env "${sam_env[@]}" python3 -m samcli validate --lint --template-file "$1" --region us-east-1
}
