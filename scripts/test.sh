#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs pnpm, dependencies, the Hub's virtualenv and
# Chromium as needed, then lints, type-checks, builds, checks the packed packages, the release dry run,
# the docs' snippets and the API reference, runs the consumer test (packed packages on Node 20, 22 and 24), and the unit
# and integration tests.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_pnpm
ensure_deps
step "Lint"
"${PNPM[@]}" run lint
step "Type-check"
"${PNPM[@]}" run typecheck
build_packages
status=0
step "Package checks (contents, manifest, publint, attw) and the release dry run"
"${PNPM[@]}" run --silent test:pack || status=1
"${PNPM[@]}" run --silent test:release || status=1
step "Docs: every snippet in the READMEs, docs/ and the TSDoc @examples type-checked, whole programs run"
"${PNPM[@]}" run --silent test:docs || status=1
step "API reference (TypeDoc into docs/api/): warnings are errors, every export documented, entry points with an @example"
"${PNPM[@]}" run --silent docs:api || status=1
step "Consumer test: the packed packages installed with npm outside the workspace: services and bins on Node 20, 22 and 24, the published types under nodenext and bundler"
"${PNPM[@]}" run --silent test:consumer || status=1
step "JupyterHub virtualenvs (pinned in test/hub/versions.json), Chromium and nginx"
bash scripts/ensure-hub.sh all
bash scripts/ensure-chromium.sh
bash scripts/ensure-nginx.sh
step "redis-server (shared-cache tests)"
bash scripts/ensure-redis.sh
mkdir -p .tmp
rm -f .tmp/jest-*.json
step "Unit tests (fake Hub), and the contract and adversarial suites on the oldest and newest release of each framework major"
node test/peers/matrix.cjs
"${PNPM[@]}" exec jest --ignoreProjects integration --json --outputFile=.tmp/jest-unit.json || status=1
step "Recipes of @hubauth/testing with vitest and node:test (the jest ones ran with the unit tests)"
"${PNPM[@]}" run test:recipes || status=1
step "Integration tests (real JupyterHub 6 and 5, real proxy, headless Chromium)"
"${PNPM[@]}" exec jest --selectProjects integration --runInBand --json --outputFile=.tmp/jest-integration.json || status=1
node scripts/summary.mjs .tmp/jest-unit.json .tmp/jest-integration.json || status=1
exit $status
