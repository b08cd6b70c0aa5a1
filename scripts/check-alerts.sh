#!/usr/bin/env bash
# npm run alerts:check: promtool validates the alert rules and runs their unit tests (Debian's prometheus package).
set -euo pipefail
cd "$(dirname "$0")/../ops/prometheus"
promtool check rules stagger-alerts.yml
promtool test rules stagger-alerts.test.yml
