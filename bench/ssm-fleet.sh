#!/usr/bin/env bash
# SSM fleet deploys against the AWS test endpoint (fake instances on this machine, each with its own state root,
# proxy, containers and port), timed in one run: a deploy to 1 instance and its ratio to the local host's deploy, then
# rolling deploys to 2 and 4 instances with MaxConcurrency 1 and 2, each as a ratio to ceil(N/k) x the 1-instance
# time (1.00 = SSM's rate control adds nothing; below 1 with k=2 = instances really deploy in parallel).
#   bash bench/ssm-fleet.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
dotnet build "$ROOT/bench/SsmFleetBench" -v q -nologo >/dev/null
dotnet "$ROOT/bench/SsmFleetBench/bin/Debug/net10.0/SsmFleetBench.dll"
