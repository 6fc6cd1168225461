# shellcheck shell=bash
# Pulls from a registry that needs a password, on a host with no standing login (an EC2 instance): the credential is
# a SecureString parameter that the host reads with its own role (the instance role), never a value in the script or
# on a command line. docker logs in through stdin into a docker config of this app's own under the state root, which
# only this app's pulls use. Without a parameter, pulls use the host's docker config (its login or credential helper).
# needs: lib/output.sh

# registry_failure REASON IMAGE DETAIL: a typed failure line (HostDataKind.Failure, RegistryFailure), then the error.
registry_failure() {
  emit "{\"kind\":\"failure\",\"reason\":$(json_str "$1"),\"image\":$(json_str "$2"),\"detail\":$(json_str "$3")}"
  fail "cannot pull $2: $3 (nothing was changed)"
}

# registry_failure_reason TEXT: what docker's last error line means for the operator, as a RegistryFailure wire name.
registry_failure_reason() {
  case "$1" in
    *x509:*|*'certificate signed by unknown authority'*|*'tls: '*) printf tls ;;
    *[Uu]nauthorized*|*'status: 401'*|*'no basic auth credentials'*|*'authentication required'*|*'requested access to the resource is denied'*) printf credentials ;;
    *'connection refused'*|*'no such host'*|*'i/o timeout'*|*'network is unreachable'*|*'no route to host'*|*'Client.Timeout'*) printf unreachable ;;
    *'manifest unknown'*|*'not found'*) printf missing ;;
    *) printf other ;;
  esac
}

# registry_login IMAGE: with a credential parameter, reads it (user:password) with the host's role and logs docker in
# to $registry_host through stdin, in $root/registry/docker (0700); registry_config then names that folder.
registry_login() {
  local value out user
  registry_config=''
  [ -n "${registry_auth_parameter:-}" ] || return 0
  command -v "$aws" >/dev/null 2>&1 ||
    registry_failure credential-parameter "$1" "the AWS CLI ($aws) is not installed on this host to read $registry_auth_parameter; run ./build.sh ConfigureHost"
  if ! value=$("$aws" ssm get-parameter --region "$registry_auth_region" --name "$registry_auth_parameter" --with-decryption \
      --query Parameter.Value --output text 2>&1 </dev/null); then
    registry_failure credential-parameter "$1" "this host's role cannot read $registry_auth_parameter: $(printf '%s\n' "$value" | tail -n 1 | cut -c1-240)"
  fi
  case "$value" in
    *:*) user=${value%%:*} ;;
    *) registry_failure credential-parameter "$1" "$registry_auth_parameter does not hold user:password" ;;
  esac
  registry_config="$root/registry/docker"
  (umask 077 && mkdir -p "$registry_config")
  if ! out=$(printf '%s' "${value#*:}" | DOCKER_CONFIG="$registry_config" "$docker" login --username "$user" --password-stdin "$registry_host" 2>&1); then
    out=$(printf '%s\n' "$out" | tail -n 1)
    registry_failure "$(registry_failure_reason "$out")" "$1" "docker login to $registry_host failed: $out"
  fi
  say "logged in to $registry_host as $user (credential from $registry_auth_parameter)"
}

# docker_pull IMAGE: pulls with this app's registry login when it has one.
docker_pull() {
  if [ -n "${registry_config:-}" ]; then
    DOCKER_CONFIG="$registry_config" "$docker" pull "$1"
  else
    "$docker" pull "$1"
  fi
}
